//! The expressions inside tags (`invoice.amount`, `item.price * item.quantity`, `$sum(products.amount)`,
//! `customer.vip == "yes" and total > 100`), read into a tree.
//!
//! Box's Template Tags Reference shows paths with dots, the arithmetic operators, comparisons, `$`-functions
//! over lists and quoted strings (Word's curly quotes included); it names no precedence, so the usual one is
//! used: `or`, `and`, `not`, comparisons, `+ -`, `* / %`, a sign. Names are letters, digits and `_` (and `$`
//! first, for functions); Box does not support spaces or hyphens in them, which are told apart from an
//! operator as Box's note describes: `first-name` (no spaces) is a hyphenated name, `a - b` a subtraction.

use std::fmt;

use crate::error::ProblemKind;

/// An expression of a tag.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expression {
    /// A path into the data (`invoice.customer.name`), as written (a loop's item not yet resolved).
    Path(String),
    /// A number.
    Number(f64),
    /// A quoted string.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An operator on one operand.
    Unary(Unary, Box<Expression>),
    /// An operator on two operands.
    Binary(Box<Expression>, Binary, Box<Expression>),
    /// A function call (`$sum(products.amount)`).
    Call(String, Vec<Expression>),
}

/// An operator on one operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unary {
    /// `not a`.
    Not,
    /// `-a`.
    Negate,
    /// `a isPresent`.
    IsPresent,
}

/// An operator on two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Binary {
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `%`
    Remainder,
    /// `==` (or `=`)
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `and` (or `&&`)
    And,
    /// `or` (or `||`)
    Or,
}

impl Expression {
    /// The paths the expression reads, in the order written (each once; function names are not paths).
    pub fn paths(&self) -> Vec<&str> {
        let mut paths = Vec::new();
        self.collect_paths(&mut paths);
        paths
    }

    fn collect_paths<'a>(&'a self, paths: &mut Vec<&'a str>) {
        match self {
            Expression::Path(path) if !paths.contains(&path.as_str()) => paths.push(path),
            Expression::Unary(_, operand) => operand.collect_paths(paths),
            Expression::Binary(left, _, right) => {
                left.collect_paths(paths);
                right.collect_paths(paths);
            }
            Expression::Call(_, arguments) => arguments.iter().for_each(|argument| argument.collect_paths(paths)),
            _ => {}
        }
    }

    /// Whether the expression is a single path (a text tag) rather than a calculation.
    pub fn is_path(&self) -> bool {
        matches!(self, Expression::Path(_))
    }
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Binary::Add => "+",
            Binary::Subtract => "-",
            Binary::Multiply => "*",
            Binary::Divide => "/",
            Binary::Remainder => "%",
            Binary::Equal => "==",
            Binary::NotEqual => "!=",
            Binary::Less => "<",
            Binary::LessOrEqual => "<=",
            Binary::Greater => ">",
            Binary::GreaterOrEqual => ">=",
            Binary::And => "and",
            Binary::Or => "or",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Number(f64),
    Text(String),
    Symbol(&'static str),
}

/// Reads `text` (the expression of the tag `tag`) into a tree.
pub(crate) fn parse(text: &str, tag: &str) -> Result<Expression, ProblemKind> {
    let tokens = tokens(text, tag)?;
    let mut parser = Parser { tokens, next: 0, tag };
    if parser.tokens.is_empty() {
        return Err(parser.problem("an empty tag"));
    }
    let expression = parser.or()?;
    match parser.tokens.get(parser.next) {
        None => Ok(expression),
        Some(Token::Name(name)) if ends_in_name(&parser.tokens[parser.next - 1]) => {
            // Two names side by side: a name with a space in it.
            let before = name_before(&parser.tokens, parser.next).unwrap_or_default();
            Err(ProblemKind::Space { name: format!("{before} {name}") })
        }
        Some(token) => Err(parser.problem(&format!("unexpected {}", describe(token)))),
    }
}

fn ends_in_name(token: &Token) -> bool {
    matches!(token, Token::Name(_))
}

fn name_before(tokens: &[Token], index: usize) -> Option<&str> {
    match tokens.get(index.checked_sub(1)?)? {
        Token::Name(name) => Some(name),
        _ => None,
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(name) => format!("`{name}`"),
        Token::Number(number) => format!("`{number}`"),
        Token::Text(text) => format!("\"{text}\""),
        Token::Symbol(symbol) => format!("`{symbol}`"),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '$'
}

/// The opening and closing quotes Box's examples use: straight, and Word's curly ones.
fn closing_quote(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\'' => Some('\''),
        '\u{201c}' | '\u{201d}' | '\u{201e}' => Some('\u{201d}'),
        '\u{2018}' | '\u{2019}' => Some('\u{2019}'),
        _ => None,
    }
}

fn tokens(text: &str, tag: &str) -> Result<Vec<Token>, ProblemKind> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    let problem = |reason: String| ProblemKind::Expression { tag: tag.to_owned(), reason };
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
        } else if let Some(close) = closing_quote(c) {
            let start = at + 1;
            let Some(length) = chars[start..].iter().position(|&d| d == close || (close == '\u{201d}' && d == '"'))
            else {
                return Err(problem("a quoted string is never closed".to_owned()));
            };
            tokens.push(Token::Text(chars[start..start + length].iter().collect()));
            at = start + length + 1;
        } else if c.is_ascii_digit() {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_digit() || chars[at] == '.') {
                at += 1;
            }
            let literal: String = chars[start..at].iter().collect();
            let number = literal.parse().map_err(|_| problem(format!("`{literal}` is not a number")))?;
            tokens.push(Token::Number(number));
        } else if is_name_char(c) {
            let start = at;
            while at < chars.len() && is_name_char(chars[at]) {
                at += 1;
            }
            let mut name: String = chars[start..at].iter().collect();
            // `first-name`: a hyphen with a name right on both sides is part of a name, which Box does not support.
            if chars.get(at) == Some(&'-') && chars.get(at + 1).is_some_and(|&next| is_name_char(next)) {
                at += 1;
                while at < chars.len() && (is_name_char(chars[at]) || chars[at] == '-') {
                    at += 1;
                }
                name = chars[start..at].iter().collect();
                return Err(ProblemKind::Hyphen { name });
            }
            if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
                return Err(problem(format!("`{name}` is not a path (an empty name between dots)")));
            }
            tokens.push(Token::Name(name));
        } else {
            let two: String = chars[at..(at + 2).min(chars.len())].iter().collect();
            let symbol = ["==", "!=", "<=", ">=", "&&", "||"].into_iter().find(|symbol| *symbol == two);
            let symbol = symbol.or_else(|| {
                ["+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ",", "!"]
                    .into_iter()
                    .find(|symbol| symbol.starts_with(c))
            });
            let Some(symbol) = symbol else {
                return Err(problem(format!("`{c}` is not part of Box's tag grammar")));
            };
            at += symbol.len();
            tokens.push(Token::Symbol(symbol));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    next: usize,
    tag: &'a str,
}

impl Parser<'_> {
    fn problem(&self, reason: &str) -> ProblemKind {
        ProblemKind::Expression { tag: self.tag.to_owned(), reason: reason.to_owned() }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    /// Takes the next token when it is one of these symbols or keywords.
    fn take(&mut self, options: &[&str]) -> Option<String> {
        let found = match self.peek()? {
            Token::Symbol(symbol) => options.contains(symbol).then(|| (*symbol).to_owned()),
            Token::Name(name) => options.contains(&name.as_str()).then(|| name.clone()),
            _ => None,
        };
        if found.is_some() {
            self.next += 1;
        }
        found
    }

    fn or(&mut self) -> Result<Expression, ProblemKind> {
        let mut left = self.and()?;
        while self.take(&["or", "||"]).is_some() {
            left = Expression::Binary(Box::new(left), Binary::Or, Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expression, ProblemKind> {
        let mut left = self.not()?;
        while self.take(&["and", "&&"]).is_some() {
            left = Expression::Binary(Box::new(left), Binary::And, Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expression, ProblemKind> {
        if self.take(&["not", "!"]).is_some() {
            return Ok(Expression::Unary(Unary::Not, Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expression, ProblemKind> {
        let left = self.presence()?;
        let Some(symbol) = self.take(&["==", "=", "!=", "<", "<=", ">", ">="]) else { return Ok(left) };
        let operator = match symbol.as_str() {
            "==" | "=" => Binary::Equal,
            "!=" => Binary::NotEqual,
            "<" => Binary::Less,
            "<=" => Binary::LessOrEqual,
            ">" => Binary::Greater,
            _ => Binary::GreaterOrEqual,
        };
        Ok(Expression::Binary(Box::new(left), operator, Box::new(self.presence()?)))
    }

    fn presence(&mut self) -> Result<Expression, ProblemKind> {
        let operand = self.sum()?;
        if self.take(&["isPresent"]).is_some() {
            return Ok(Expression::Unary(Unary::IsPresent, Box::new(operand)));
        }
        Ok(operand)
    }

    fn sum(&mut self) -> Result<Expression, ProblemKind> {
        let mut left = self.product()?;
        while let Some(symbol) = self.take(&["+", "-"]) {
            let operator = if symbol == "+" { Binary::Add } else { Binary::Subtract };
            left = Expression::Binary(Box::new(left), operator, Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expression, ProblemKind> {
        let mut left = self.sign()?;
        while let Some(symbol) = self.take(&["*", "/", "%"]) {
            let operator = match symbol.as_str() {
                "*" => Binary::Multiply,
                "/" => Binary::Divide,
                _ => Binary::Remainder,
            };
            left = Expression::Binary(Box::new(left), operator, Box::new(self.sign()?));
        }
        Ok(left)
    }

    fn sign(&mut self) -> Result<Expression, ProblemKind> {
        if self.take(&["-"]).is_some() {
            return Ok(Expression::Unary(Unary::Negate, Box::new(self.sign()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expression, ProblemKind> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.problem("the expression ends where a value was expected"));
        };
        self.next += 1;
        match token {
            Token::Number(number) => Ok(Expression::Number(number)),
            Token::Text(text) => Ok(Expression::Text(text)),
            Token::Symbol("(") => {
                let inner = self.or()?;
                self.take(&[")"]).ok_or_else(|| self.problem("a `(` is never closed"))?;
                Ok(inner)
            }
            Token::Name(name) => match name.as_str() {
                "true" => Ok(Expression::Bool(true)),
                "false" => Ok(Expression::Bool(false)),
                "null" => Ok(Expression::Null),
                "and" | "or" | "not" | "isPresent" => {
                    Err(self.problem(&format!("`{name}` where a value was expected")))
                }
                _ if self.take(&["("]).is_some() => {
                    let mut arguments = Vec::new();
                    if self.take(&[")"]).is_none() {
                        loop {
                            arguments.push(self.or()?);
                            if self.take(&[")"]).is_some() {
                                break;
                            }
                            self.take(&[","]).ok_or_else(|| self.problem("expected `,` or `)` in a function call"))?;
                        }
                    }
                    Ok(Expression::Call(name, arguments))
                }
                _ => Ok(Expression::Path(name)),
            },
            Token::Symbol(symbol) => Err(self.problem(&format!("`{symbol}` where a value was expected"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Box<Expression> {
        Box::new(Expression::Path(text.to_owned()))
    }

    #[test]
    fn arithmetic_follows_the_usual_precedence() {
        let parsed = parse("item.price * item.quantity + 1", "t").expect("parses");
        let product = Expression::Binary(path("item.price"), Binary::Multiply, path("item.quantity"));
        assert_eq!(parsed, Expression::Binary(Box::new(product), Binary::Add, Box::new(Expression::Number(1.0))));
        assert_eq!(parsed.paths(), ["item.price", "item.quantity"]);
    }

    #[test]
    fn conditions_functions_and_curly_quotes() {
        let parsed =
            parse("customer.vip == \u{201c}yes\u{201d} and $sum(products.amount) > 1000", "t").expect("parses");
        assert_eq!(parsed.paths(), ["customer.vip", "products.amount"]);
        assert!(matches!(parsed, Expression::Binary(_, Binary::And, _)));
        assert!(matches!(parse("x isPresent", "t"), Ok(Expression::Unary(Unary::IsPresent, _))));
        assert!(matches!(parse("not (a or b)", "t"), Ok(Expression::Unary(Unary::Not, _))));
    }

    #[test]
    fn spaces_and_hyphens_in_names_are_told_apart_from_operators() {
        assert_eq!(parse("first name", "t"), Err(ProblemKind::Space { name: "first name".into() }));
        assert_eq!(parse("first-name", "t"), Err(ProblemKind::Hyphen { name: "first-name".into() }));
        assert!(parse("total - discount", "t").is_ok());
        assert!(parse("total -discount", "t").is_ok());
    }

    #[test]
    fn malformed_expressions_say_why() {
        for text in ["a +", "(a", "", "a ) b", "\"open", "a..b", "a # b", "$sum(a b"] {
            assert!(parse(text, "t").is_err(), "{text:?}");
        }
    }
}
