//! Checks of the caller's arguments, made before any request: the bottom layer every operation uses.

use std::path::{Component, Path};

use crate::Error;

/// Checks that a value is not empty or only whitespace.
pub(crate) fn non_blank<'a>(argument: &'static str, value: &'a str) -> Result<&'a str, Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(argument, "must not be empty or blank"));
    }
    Ok(value)
}

/// Checks that an id can travel as exactly one path segment once percent-encoded.
pub(crate) fn path_segment<'a>(argument: &'static str, id: &'a str) -> Result<&'a str, Error> {
    non_blank(argument, id)?;
    // URL parsers resolve `.` and `..` (even percent-encoded) and read `\` as `/` in http(s) URLs, so these
    // would reach another path; Box ids never look like that.
    if id == "." || id == ".." || id.contains('\\') {
        return Err(Error::invalid_input(argument, format!("{id:?} cannot be sent as one URL path segment")));
    }
    Ok(id)
}

/// Checks that `name` is one plain file name, which stays inside any directory it is joined to: not empty,
/// `.` or `..`, with no path separator, not absolute, no NUL.
///
/// [`Client::download_output`](crate::Client::download_output) applies it to the name Box gives a document;
/// a workflow that downloads under names it chose can refuse bad ones before asking Box for anything.
///
/// ```
/// assert!(box_docgen::check_file_name("Contract - Acme.pdf").is_ok());
/// assert!(box_docgen::check_file_name("../../etc/passwd").is_err());
/// ```
pub fn check_file_name(name: &str) -> Result<&str, Error> {
    let mut components = Path::new(name).components();
    let plain = matches!((components.next(), components.next()), (Some(Component::Normal(_)), None));
    if !plain || name.contains(['/', '\\', '\0']) {
        return Err(Error::invalid_input(
            "file name",
            format!("{name:?} is not a plain file name: it would not stay inside the directory"),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_cannot_be_one_segment_are_rejected() {
        for bad in ["", " ", "\t\n", ".", "..", "a\\b"] {
            assert!(matches!(path_segment("job_id", bad), Err(Error::InvalidInput(_))), "{bad:?}");
        }
        for good in ["12345", "a/b", "..x", "../etc", "é ?#%"] {
            assert_eq!(path_segment("job_id", good).ok(), Some(good));
        }
    }

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in ["", ".", "..", "../x.pdf", "a/b.pdf", "a\\b.pdf", "/etc/passwd", "x\0.pdf"] {
            assert!(matches!(check_file_name(bad), Err(Error::InvalidInput(_))), "{bad:?}");
        }
        for good in ["Contract - Acme.pdf", "..x.pdf", "résumé.docx"] {
            assert_eq!(check_file_name(good).ok(), Some(good));
        }
    }
}
