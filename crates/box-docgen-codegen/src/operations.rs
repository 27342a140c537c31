//! The operation table: what the facade needs to know about each operation, taken from the fragment.
//!
//! For every operation the generated `operations` module holds one request type (the arguments of the
//! generated client method, in a struct) implementing `Operation`: its `INFO` (operation id, method, path
//! template, whether it may be sent again after a server error, its success statuses and their schemas), its
//! `send` (the call of the generated method with those arguments), its `Output` and `decode` (the success
//! body types). The success statuses are read before `read_responses_in_the_facade` in
//! [`crate::workarounds`] removes responses, so the table keeps what progenitor cannot express. Nothing about an operation is written by hand.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::workarounds::pascal_case;

/// One operation of the fragment, as read before normalization.
#[derive(Debug)]
pub(crate) struct Operation {
    id: String,
    method: String,
    path: String,
    /// The header parameters the fragment marks required, such as `box-version`.
    required_headers: Vec<String>,
    /// The URL of the operation's own server, when it names one (Box's upload host).
    server: Option<String>,
    successes: Vec<Success>,
}

#[derive(Debug)]
struct Success {
    status: u16,
    /// The media type of the body, such as `application/json`; `None` without a body.
    content_type: Option<String>,
    /// The component name of a JSON body's schema, such as `DocGenJobs--Full`.
    schema: Option<String>,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Reads every operation of the fragment, in the fragment's order.
pub(crate) fn collect(spec: &Value) -> Result<Vec<Operation>, String> {
    let paths = spec.get("paths").and_then(Value::as_object).ok_or("the fragment has no `paths`")?;
    let mut operations = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{} {path} has no operationId", method.to_uppercase()))?;
            let responses = operation.get("responses").and_then(Value::as_object);
            let mut successes = Vec::new();
            for (status, response) in responses.into_iter().flatten() {
                let Some(status) = status.parse::<u16>().ok().filter(|status| (200..300).contains(status)) else {
                    continue;
                };
                let response = resolve(spec, response)?;
                let (content_type, schema) = body(id, status, response)?;
                successes.push(Success { status, content_type, schema });
            }
            if successes.is_empty() {
                return Err(format!("{id} declares no 2xx response"));
            }
            successes.sort_by_key(|success| success.status);
            let mut required_headers = Vec::new();
            for parameter in operation.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                let parameter = resolve(spec, parameter)?;
                let required = parameter.get("required") == Some(&Value::Bool(true));
                if required && parameter.get("in").and_then(Value::as_str) == Some("header") {
                    required_headers.extend(parameter.get("name").and_then(Value::as_str).map(str::to_owned));
                }
            }
            let server = operation.pointer("/servers/0/url").and_then(Value::as_str).map(str::to_owned);
            operations.push(Operation {
                id: id.to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                required_headers,
                server,
                successes,
            });
        }
    }
    Ok(operations)
}

/// Follows a `$ref` to `#/components/responses/...` or `#/components/parameters/...`.
fn resolve<'a>(spec: &'a Value, response: &'a Value) -> Result<&'a Value, String> {
    match response.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec
            .pointer(reference.trim_start_matches('#'))
            .ok_or_else(|| format!("the response {reference} does not exist")),
        None => Ok(response),
    }
}

/// The media type of a body and, for JSON, its named schema; `(None, None)` without a body. A body of another
/// media type (a file's bytes) has no schema: it is handed over as bytes.
fn body(id: &str, status: u16, response: &Value) -> Result<(Option<String>, Option<String>), String> {
    let Some(content) = response.get("content").and_then(Value::as_object).filter(|content| !content.is_empty()) else {
        return Ok((None, None));
    };
    let Some(media) = content.get("application/json") else {
        return Ok((content.keys().next().cloned(), None));
    };
    match media.get("schema").and_then(|schema| schema.get("$ref")).and_then(Value::as_str) {
        Some(reference) => {
            let schema = reference.trim_start_matches("#/components/schemas/").to_owned();
            Ok((Some("application/json".to_owned()), Some(schema)))
        }
        None => Err(format!(
            "{id} {status}: a JSON body needs a schema that is a $ref to a named schema, so that it has a generated type"
        )),
    }
}

/// progenitor's method name for an operation id: `get_docgen_jobs_id_v2025.0` → `get_docgen_jobs_id_v2025_0`.
fn method_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// RFC 9110 section 9.2.2: sending these again has the same effect as sending them once.
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE")
}

/// A variant name for a success status: `Ok`, `Accepted`, ...
fn status_variant(status: u16) -> Ident {
    let name = match status {
        200 => "Ok".to_owned(),
        201 => "Created".to_owned(),
        202 => "Accepted".to_owned(),
        203 => "NonAuthoritative".to_owned(),
        204 => "NoContent".to_owned(),
        206 => "PartialContent".to_owned(),
        other => format!("Status{other}"),
    };
    Ident::new(&name, Span::call_site())
}

/// The `operations` module, from the table and the generated client (whose method signatures give each
/// request type its fields, in progenitor's argument order): the table's own types, then one request type per
/// operation, then the `for_each_operation!` macro over them.
pub(crate) fn module(operations: &[Operation], generated: &syn::File) -> Result<TokenStream, String> {
    let methods = client_methods(generated);
    let type_names = type_names(generated);
    let mut items = Vec::new();
    let mut infos = Vec::new();
    let mut names = Vec::new();
    for operation in operations {
        let request = request_type(operation, &methods, &type_names)?;
        items.push(request.item);
        let (name, generics) = (request.name, request.static_generics);
        infos.push(quote!(<#name #generics as Operation>::INFO));
        names.push(quote!($crate::operations::#name #generics));
    }
    let definitions = table_definitions();
    Ok(quote! {
        /// The operation table: one request type per operation of the fragment, with what the facade needs
        /// to send it, retry it, trace it and decode its answer. Generated from the fragment.
        pub mod operations {
            #definitions

            /// Every operation of the fragment.
            pub const ALL: &[Info] = &[#(#infos),*];

            #(#items)*
        }

        /// Calls `$callback!(RequestType)` for the request type of every operation (with `'static`
        /// lifetimes), for code that must cover them all.
        #[macro_export]
        macro_rules! for_each_operation {
            ($callback:ident) => { #( $callback!(#names); )* };
        }
    })
}

/// The table's own types, the same for every fragment: `Raw`, `Info`, `Success`, `Body`, `Operation`.
fn table_definitions() -> TokenStream {
    quote! {
            /// What the generated client returns for every operation (responses are read by the caller).
            pub type Raw = ::std::result::Result<
                super::ResponseValue<super::ByteStream>,
                super::Error<()>,
            >;

            /// What an operation is, from the fragment.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct Info {
                /// The fragment's `operationId`.
                pub id: &'static str,
                /// The HTTP method, upper case.
                pub method: &'static str,
                /// The path template under the API root, such as `/docgen_jobs/{job_id}`.
                pub path: &'static str,
                /// Whether the method is idempotent (RFC 9110), so it may be sent again after a server error
                /// or a dropped connection: `POST` and `PATCH` may not.
                pub idempotent: bool,
                /// The header parameters the fragment marks required (lower case as written there).
                pub required_headers: &'static [&'static str],
                /// The URL of the server the fragment names for this operation alone (Box's upload host,
                /// `https://upload.box.com/api/2.0`), or `None` for the document's server (the API host). The
                /// URL may hold a server variable (`https://{box-upload-server}/api/2.0`).
                pub server: ::std::option::Option<&'static str>,
                /// The success statuses the fragment lists, in order, with their body schemas.
                pub successes: &'static [Success],
            }

            /// A success status of an operation.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub struct Success {
                /// The HTTP status.
                pub status: u16,
                /// The media type of the body, `None` when there is no body.
                pub content_type: ::std::option::Option<&'static str>,
                /// The component name of a JSON body's schema (other bodies are bytes).
                pub schema: ::std::option::Option<&'static str>,
            }

            /// A success body, as the caller read it.
            pub trait Body {
                /// Why a body does not decode.
                type Error;
                /// Decodes the body as JSON.
                fn json<T: ::serde::de::DeserializeOwned>(&self) -> ::std::result::Result<T, Self::Error>;
                /// The body's bytes, for bodies that are not JSON.
                fn bytes(&self) -> &[u8];
            }

            /// An operation with its arguments.
            pub trait Operation: Sync {
                /// What the operation is.
                const INFO: Info;
                /// The decoded success answer.
                type Output;
                /// Sends the request once.
                fn send<'s>(&'s self, client: &'s super::Client) -> impl ::std::future::Future<Output = Raw> + Send + 's;
                /// Decodes a success answer with the type its status has in the fragment (a 2xx the fragment
                /// does not list decodes as the first listed one).
                fn decode<B: Body>(status: u16, body: &B) -> ::std::result::Result<Self::Output, B::Error>;
            }
    }
}

/// One operation's request type, its name, and its generics with `'static` lifetimes.
struct RequestType {
    item: TokenStream,
    name: Ident,
    static_generics: TokenStream,
}

/// The request type of `operation`: a struct of the generated method's arguments, its output type, and its
/// `Operation` impl (its `Info`, how it is sent, how its answer decodes).
fn request_type(
    operation: &Operation,
    methods: &[syn::Signature],
    type_names: &[String],
) -> Result<RequestType, String> {
    let method_name = method_name(&operation.id);
    let signature = methods
        .iter()
        .find(|signature| signature.ident == method_name)
        .ok_or_else(|| format!("{}: progenitor generated no method `{method_name}`", operation.id))?;
    let name = format_ident!("{}", pascal_case(&operation.id));
    let fields = fields(signature)?;
    let arguments = fields.iter().map(|(name, _)| quote!(::std::clone::Clone::clone(&self.#name)));
    let lifetime = fields.iter().any(|(_, ty)| quote!(#ty).to_string().contains("'a"));
    let generics = if lifetime { quote!(<'a>) } else { quote!() };
    let static_generics = if lifetime { quote!(<'static>) } else { quote!() };
    let field_names: Vec<&Ident> = fields.iter().map(|(name, _)| name).collect();
    let field_types: Vec<&syn::Type> = fields.iter().map(|(_, ty)| ty).collect();
    let field_docs = field_names.iter().map(|name| format!("The `{name}` argument."));
    // A body of bytes is not `Copy`; every other field is a reference or a number.
    let copy =
        if field_types.iter().any(|ty| quote!(#ty).to_string().contains("Bytes")) { quote!() } else { quote!(Copy,) };
    let Output { output, decode, item: output_item } = output(operation, &name, type_names)?;
    let info = info(operation);
    let (method, path, id) = (&operation.method, &operation.path, &operation.id);
    let doc = format!(
        "`{method} {path}` (`{id}`): the arguments of [`Client::{method_name}`](super::Client::{method_name})."
    );
    let method_ident = Ident::new(&method_name, Span::call_site());
    let item = quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, #copy)]
        pub struct #name #generics {
            #( #[doc = #field_docs] pub #field_names: #field_types, )*
        }

        #output_item

        impl #generics Operation for #name #generics {
            const INFO: Info = #info;
            type Output = #output;

            fn send<'s>(&'s self, client: &'s super::Client) -> impl ::std::future::Future<Output = Raw> + Send + 's {
                client.#method_ident(#( #arguments ),*)
            }

            fn decode<B: Body>(status: u16, body: &B) -> ::std::result::Result<Self::Output, B::Error> {
                let _ = status;
                #decode
            }
        }
    };
    Ok(RequestType { item, name, static_generics })
}

/// What an operation's success decodes to: its type, the decoding expression, and the enum of its success
/// answers when it has several (empty otherwise).
struct Output {
    output: TokenStream,
    decode: TokenStream,
    item: TokenStream,
}

fn output(operation: &Operation, name: &Ident, type_names: &[String]) -> Result<Output, String> {
    let output_name = format_ident!("{name}Output");
    let body_type = |success: &Success| body_type(&operation.id, success, type_names);
    let (output, decode, item) = match operation.successes.as_slice() {
        [only] => match body_type(only)? {
            Some((body_type, read)) => (body_type, quote!(Ok(#read)), quote!()),
            None => (
                quote!(()),
                quote!({
                    let _ = body;
                    Ok(())
                }),
                quote!(),
            ),
        },
        many => {
            let mut variants = Vec::new();
            let mut arms = Vec::new();
            for (index, success) in many.iter().enumerate() {
                let variant = status_variant(success.status);
                let status = success.status;
                let doc = format!("HTTP {status}.");
                let pattern = if index == 0 { quote!(_) } else { quote!(#status) };
                match body_type(success)? {
                    Some((body_type, read)) => {
                        variants.push(quote!(#[doc = #doc] #variant(#body_type)));
                        arms.push((index, quote!(#pattern => Ok(#output_name::#variant(#read)))));
                    }
                    None => {
                        variants.push(quote!(#[doc = #doc] #variant));
                        arms.push((index, quote!(#pattern => Ok(#output_name::#variant))));
                    }
                }
            }
            // The first status is the fallback for a 2xx the fragment does not list: last arm.
            arms.rotate_left(1);
            let arms = arms.into_iter().map(|(_, arm)| arm);
            let doc = format!("The success answers of `{}`.", operation.id);
            let item = quote! {
                #[doc = #doc]
                #[derive(Debug, Clone)]
                pub enum #output_name { #(#variants,)* }
            };
            (quote!(#output_name), quote!(match status { #(#arms,)* }), item)
        }
    };
    Ok(Output { output, decode, item })
}

/// The Rust type of a success body and how to decode it; `None` without a body.
fn body_type(id: &str, success: &Success, type_names: &[String]) -> Result<Option<(TokenStream, TokenStream)>, String> {
    let Some(schema) = &success.schema else {
        let bytes = (quote!(::std::vec::Vec<u8>), quote!(body.bytes().to_vec()));
        return Ok(success.content_type.as_ref().map(|_| bytes));
    };
    let type_name = pascal_case(schema);
    if !type_names.contains(&type_name) {
        return Err(format!("{id}: no generated type `{type_name}` for the schema {schema}"));
    }
    let type_name = Ident::new(&type_name, Span::call_site());
    Ok(Some((quote!(super::types::#type_name), quote!(body.json()?))))
}

/// The operation's `Info`, as a constant expression.
fn info(operation: &Operation) -> TokenStream {
    let id = &operation.id;
    let method = &operation.method;
    let path = &operation.path;
    let idempotent = idempotent(method);
    let required_headers = &operation.required_headers;
    let statuses = operation.successes.iter().map(|success| success.status);
    let optional = |text: &Option<String>| match text {
        Some(text) => quote!(Some(#text)),
        None => quote!(None),
    };
    let server = optional(&operation.server);
    let content_types = operation.successes.iter().map(|success| optional(&success.content_type));
    let schemas = operation.successes.iter().map(|success| optional(&success.schema));
    quote! {
        Info {
            id: #id,
            method: #method,
            path: #path,
            idempotent: #idempotent,
            required_headers: &[#(#required_headers),*],
            server: #server,
            successes: &[#(Success { status: #statuses, content_type: #content_types, schema: #schemas }),*],
        }
    }
}

/// The fields of a request type: the method's arguments after `self`, in order.
///
/// A body of bytes is a type parameter of the method (`B: Into<reqwest::Body>`); its field is [`BYTES`], which
/// is sent again on a retry without copying the content.
fn fields(signature: &syn::Signature) -> Result<Vec<(Ident, syn::Type)>, String> {
    let generic_types: Vec<String> = signature
        .generics
        .type_params()
        .map(|param| {
            let bounds = &param.bounds;
            let bounds = quote!(#bounds).to_string().replace(' ', "");
            if bounds == "Into<reqwest::Body>" {
                Ok(param.ident.to_string())
            } else {
                Err(format!("{}: a type parameter `{}: {bounds}` that is not a body", signature.ident, param.ident))
            }
        })
        .collect::<Result<_, _>>()?;
    let mut fields = Vec::new();
    for input in &signature.inputs {
        let syn::FnArg::Typed(typed) = input else { continue };
        let syn::Pat::Ident(pattern) = typed.pat.as_ref() else {
            return Err(format!("{}: an argument without a plain name", signature.ident));
        };
        let ty = typed.ty.as_ref();
        let ty = if generic_types.contains(&quote!(#ty).to_string()) {
            syn::parse_str(BYTES).map_err(|e| e.to_string())?
        } else {
            qualify_types(ty)
        };
        fields.push((pattern.ident.clone(), ty));
    }
    Ok(fields)
}

/// The field type of a body of bytes (a file's content, or a multipart body the facade encodes).
const BYTES: &str = "::bytes::Bytes";

/// `types::X` in the client becomes `super::types::X` in the `operations` module.
fn qualify_types(ty: &syn::Type) -> syn::Type {
    let text = quote!(#ty).to_string().replace("types ::", "super :: types ::");
    syn::parse_str(&text).unwrap_or_else(|_| ty.clone())
}

/// The signatures of the methods of `impl Client` blocks.
fn client_methods(file: &syn::File) -> Vec<syn::Signature> {
    let mut methods = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(block) = item else { continue };
        let self_ty = &block.self_ty;
        if block.trait_.is_some() || quote!(#self_ty).to_string() != "Client" {
            continue;
        }
        for item in &block.items {
            if let syn::ImplItem::Fn(function) = item {
                methods.push(function.sig.clone());
            }
        }
    }
    methods
}

/// The names of the items of the generated `types` module.
fn type_names(file: &syn::File) -> Vec<String> {
    let mut names = Vec::new();
    for item in &file.items {
        let syn::Item::Mod(module) = item else { continue };
        if module.ident != "types" {
            continue;
        }
        for item in module.content.iter().flat_map(|(_, items)| items) {
            match item {
                syn::Item::Struct(item) => names.push(item.ident.to_string()),
                syn::Item::Enum(item) => names.push(item.ident.to_string()),
                syn::Item::Type(item) => names.push(item.ident.to_string()),
                _ => {}
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_statuses_and_schemas_are_read_before_responses_are_removed() {
        let spec = serde_json::json!({ "paths": {
            "/t/{id}/tags": { "get": { "operationId": "get_tags_v1.0", "responses": {
                "202": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Busy" } } } },
                "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Tags--Full" } } } },
                "404": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "default": {}
            } } },
            "/t/{id}": { "delete": { "operationId": "delete_t", "servers": [{ "url": "https://upload.example/2.0" }],
                "responses": { "204": { "$ref": "#/components/responses/Gone" } } } }
        }, "components": { "responses": { "Gone": { "description": "gone" } } } });
        let operations = collect(&spec).expect("collects");
        assert_eq!(operations.len(), 2);
        let tags = &operations[0];
        assert_eq!(
            (tags.id.as_str(), tags.method.as_str(), tags.path.as_str()),
            ("get_tags_v1.0", "GET", "/t/{id}/tags")
        );
        assert_eq!(tags.successes[0].content_type.as_deref(), Some("application/json"));
        let statuses: Vec<_> = tags.successes.iter().map(|s| (s.status, s.schema.as_deref())).collect();
        assert_eq!(statuses, [(200, Some("Tags--Full")), (202, Some("Busy"))]);
        assert_eq!(operations[1].successes[0].schema, None);
        assert_eq!(operations[1].method, "DELETE");
        assert_eq!(
            (tags.server.as_deref(), operations[1].server.as_deref()),
            (None, Some("https://upload.example/2.0"))
        );
    }

    #[test]
    fn an_operation_without_success_or_with_an_inline_json_body_is_refused() {
        let none =
            serde_json::json!({ "paths": { "/x": { "get": { "operationId": "x", "responses": { "404": {} } } } } });
        assert!(collect(&none).expect_err("no 2xx").contains("no 2xx"));
        let inline = serde_json::json!({ "paths": { "/x": { "get": { "operationId": "x", "responses": {
            "200": { "content": { "application/json": { "schema": { "type": "object" } } } } } } } } });
        assert!(collect(&inline).expect_err("inline").contains("$ref"));
        let bytes = serde_json::json!({ "paths": { "/x": { "get": { "operationId": "x", "responses": {
            "200": { "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } }
        } } } } });
        let success = &collect(&bytes).expect("a binary body")[0].successes[0];
        assert_eq!(
            (success.content_type.as_deref(), success.schema.as_deref()),
            (Some("application/octet-stream"), None)
        );
    }

    #[test]
    fn names_and_retry_rules() {
        assert_eq!(method_name("get_docgen_jobs_id_v2025.0"), "get_docgen_jobs_id_v2025_0");
        for method in ["GET", "PUT", "DELETE", "HEAD"] {
            assert!(idempotent(method), "{method}");
        }
        for method in ["POST", "PATCH"] {
            assert!(!idempotent(method), "{method}");
        }
        assert_eq!(status_variant(202), "Accepted");
        assert_eq!(status_variant(299), "Status299");
    }
}
