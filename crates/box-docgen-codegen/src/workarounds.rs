//! Everything progenitor 0.15 cannot take from Box's contract as it is, in one place.
//!
//! The committed fragment (`openapi/docgen.json`) stays faithful to Box. [`normalize`] rewrites the parsed
//! document in memory just before generation, and [`settings`] adds the generation settings that go with the
//! rewrites. Each rewrite names the upstream limitation it works around; drop it when upstream fixes that.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use serde_json::{Map, Value};

use crate::null_object::NullObjectField;
use crate::open_enum::OpenEnum;

/// What the rewrites leave for the generation step to finish.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    /// The string enums hoisted out of line ([`hoist_string_enums`]).
    pub(crate) open_enums: Vec<OpenEnum>,
    /// The properties whose null-schema arm was dropped ([`optional_instead_of_null_schema`]).
    pub(crate) null_objects: Vec<NullObjectField>,
    /// The operations handed to progenitor as `GET`, with their real method
    /// ([`methods_reqwest_lacks_are_sent_as_get`]).
    pub(crate) sent_as_get: Vec<(String, String)>,
}

/// Rewrites the fragment in place, in this order; each rewrite is the function of its name, and the functions
/// below are in this order too.
pub(crate) fn normalize(spec: &mut Value) -> Result<Normalized, String> {
    add_docgen_triggers(spec);
    let paths = spec.get_mut("paths").and_then(Value::as_object_mut).ok_or("the fragment has no `paths`")?;
    for item in paths.values_mut() {
        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            read_responses_in_the_facade(operation);
        }
    }
    let schemas = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("the fragment has no `components.schemas`")?;
    let mut null_objects = Vec::new();
    for schema in schemas.values_mut() {
        optional_instead_of_null_schema(schema, &mut null_objects);
        only_described_properties_are_required(schema);
    }
    let open_enums = hoist_string_enums(schemas);
    share_parameter_schemas(spec);
    multipart_bodies_are_bytes(spec);
    let sent_as_get = methods_reqwest_lacks_are_sent_as_get(spec)?;
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
                headers_are_never_null(operation);
                unexploded_arrays_are_strings(operation);
            }
        }
    }
    Ok(Normalized { open_enums, null_objects, sent_as_get })
}

/// The webhook triggers Box sends for Doc Gen (Box's developer documentation, since August 2025), which Box's
/// OpenAPI descriptions do not list.
pub(crate) const DOCGEN_TRIGGERS: [&str; 3] =
    ["DOCGEN_DOCUMENT_GENERATION_STARTED", "DOCGEN_DOCUMENT_GENERATION_SUCCEEDED", "DOCGEN_DOCUMENT_GENERATION_FAILED"];

/// The Doc Gen webhook triggers are known values.
///
/// Not a progenitor limitation but a gap in Box's descriptions: the trigger lists of `POST /webhooks`,
/// `PUT /webhooks/{id}` and the `Webhook` schema lack the Doc Gen triggers that Box's documentation names. A
/// request must be able to send them (typify's request enums are closed), and an answer names them as known
/// values rather than `Unknown`. Every string enum that lists `FILE.UPLOADED` (a trigger list) gets them.
fn add_docgen_triggers(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let is_trigger_list = object
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|values| values.iter().any(|value| value.as_str() == Some("FILE.UPLOADED")));
            if is_trigger_list && let Some(values) = object.get_mut("enum").and_then(Value::as_array_mut) {
                for trigger in DOCGEN_TRIGGERS {
                    if !values.iter().any(|value| value.as_str() == Some(trigger)) {
                        values.push(Value::from(trigger));
                    }
                }
            }
            object.values_mut().for_each(add_docgen_triggers);
        }
        Value::Array(items) => items.iter_mut().for_each(add_docgen_triggers),
        _ => {}
    }
}

/// Responses are left to the facade.
///
/// - An operation with more than one success body (Box's `default: ClientError` counts as one, and the
///   template tags operation has 200 and 202) panics the generator: `assertion failed: response_types.len() <= 1`
///   (oxidecomputer/progenitor#344, #950).
/// - When a body does not decode, the generated code returns `Error::InvalidResponsePayload` without the HTTP
///   status or headers (so no `Retry-After`), and it buffers bodies of any size.
///
/// With no responses declared, progenitor hands every 2xx back as a raw body stream with its status and
/// headers, and every other status as the raw `reqwest::Response`. The facade reads the body (bounded), and
/// decodes it into the generated types (`DocGenJob`, `ClientError`, ...), which are still generated from
/// `components.schemas`.
fn read_responses_in_the_facade(operation: &mut Value) {
    if let Some(responses) = operation.get_mut("responses") {
        *responses = Value::Object(Map::new());
    }
}

/// Box's "OpenAPI 3.0 null schema" idiom becomes a plain optional field.
///
/// Box writes a nullable reference as `oneOf: [{$ref: T}, {title: "OpenAPI 3.0 null schema type", type: object,
/// nullable: true, additionalProperties: false}]`. typify renders that as an untagged enum over `T` and
/// `Option<an empty struct>`, so users would match on a wrapper to reach `T`. For a property that is not
/// required, the arm is replaced by the `$ref` alone: typify then generates `Option<T>`. The null arm allows
/// `null` and also `{}` (an object with no properties), and Box's contract allows both; serde reads `null` and
/// an absent field as `None`, and the property is recorded in `found` so that [`crate::null_object::patch`]
/// gives the field a deserializer that reads `{}` as `None` too.
fn optional_instead_of_null_schema(schema: &mut Value, found: &mut Vec<NullObjectField>) {
    let Some(object) = schema.as_object_mut() else {
        if let Some(items) = schema.as_array_mut() {
            items.iter_mut().for_each(|item| optional_instead_of_null_schema(item, found));
        }
        return;
    };
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(|name| name.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            if required.contains(name) {
                continue;
            }
            if let Some(referenced) = replace_null_one_of(property) {
                let type_name = pascal_case(referenced.trim_start_matches("#/components/schemas/"));
                let field = NullObjectField { property: name.clone(), type_name };
                if !found.contains(&field) {
                    found.push(field);
                }
            }
        }
    }
    object.values_mut().for_each(|child| optional_instead_of_null_schema(child, found));
}

/// Replaces `{oneOf: [{$ref}, null schema]}`, here or in an `allOf` arm, by `{$ref}`; returns the `$ref`.
fn replace_null_one_of(property: &mut Value) -> Option<String> {
    if let Some(arms) = property.get_mut("allOf").and_then(Value::as_array_mut) {
        return arms.iter_mut().find_map(replace_null_one_of);
    }
    let [reference, null] = property.get("oneOf")?.as_array()?.as_slice() else {
        return None;
    };
    let is_null_schema = null.get("nullable") == Some(&Value::Bool(true))
        && null.get("properties").is_none()
        && null.get("additionalProperties") == Some(&Value::Bool(false));
    let referenced = reference.get("$ref")?.as_str()?.to_owned();
    if !is_null_schema {
        return None;
    }
    *property = reference.clone();
    Some(referenced)
}

/// A schema requires only properties it describes.
///
/// JSON Schema lets `required` name a property that `properties` does not describe, and Box's description does
/// so once: the shared link of a file (`File.shared_link`) requires `accessed`, which it never defines, which
/// Box's own SDKs have no field for, and which real answers do not carry. typify 0.8 turns such a name into a
/// required field of type `serde_json::Value`, so decoding any real answer with `fields=shared_link` fails
/// (`missing field accessed`). Names missing from the object's own `properties` are dropped from its
/// `required` (only in objects that describe properties, and in an `allOf` only when no other arm describes any).
fn only_described_properties_are_required(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let in_all_of = object.contains_key("allOf");
            for (key, child) in object.iter_mut() {
                if let Some(arms) = child.as_array_mut().filter(|_| key == "allOf") {
                    // An arm may rely on a sibling arm for a property it requires: an arm is taken whole only
                    // when no other arm describes properties (Box's one-arm `allOf` that adds a description).
                    let describing = arms.iter().filter(|arm| arm.get("properties").is_some()).count();
                    for arm in arms {
                        if describing <= 1 {
                            only_described_properties_are_required(arm);
                        } else {
                            for grandchild in arm.as_object_mut().into_iter().flat_map(|arm| arm.values_mut()) {
                                only_described_properties_are_required(grandchild);
                            }
                        }
                    }
                } else {
                    only_described_properties_are_required(child);
                }
            }
            if in_all_of {
                return;
            }
            let described: Vec<String> = match object.get("properties").and_then(Value::as_object) {
                Some(properties) => properties.keys().cloned().collect(),
                None => return,
            };
            if let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) {
                required.retain(|name| name.as_str().is_some_and(|name| described.iter().any(|d| d == name)));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(only_described_properties_are_required),
        _ => {}
    }
}

/// String enums become open enums.
///
/// typify (under progenitor) turns `enum` lists into closed Rust enums, so a value Box adds later (a new job
/// status, an error code missing from Box's own list such as `rate_limit_exceeded`) fails the whole response.
/// `with_replacement` only applies to named schemas (oxidecomputer/typify has no "open enum" setting), so
/// every inline string enum under a property (or as the items of an array property) is moved to a named
/// component here and replaced, in
/// [`settings`], by an enum generated in [`crate::open_enum`] that keeps unknown values as `Unknown(String)`.
fn hoist_string_enums(schemas: &mut Map<String, Value>) -> Vec<OpenEnum> {
    let mut hoisted = Vec::new();
    for (name, schema) in schemas.iter_mut() {
        hoist_in(&pascal_case(name), schema, &mut hoisted);
    }
    for open in &hoisted {
        schemas.insert(open.name.clone(), open.schema.clone());
    }
    hoisted
}

fn hoist_in(owner: &str, schema: &mut Value, hoisted: &mut Vec<OpenEnum>) {
    match schema {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "properties" {
                    for (property, property_schema) in child.as_object_mut().into_iter().flatten() {
                        let name = format!("{owner}{}", pascal_case(property));
                        if let Some(open) = OpenEnum::from_schema(&name, property_schema) {
                            *property_schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
                            hoisted.push(open);
                        } else {
                            hoist_in(&name, property_schema, hoisted);
                        }
                    }
                } else if key == "items"
                    && let Some(open) = OpenEnum::from_schema(&format!("{owner}Item"), child)
                {
                    // An array of a string enum (Box's `allowed_invitee_roles`): its items are hoisted too.
                    *child = serde_json::json!({ "$ref": format!("#/components/schemas/{}", open.name) });
                    hoisted.push(open);
                } else {
                    hoist_in(owner, child, hoisted);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| hoist_in(owner, item, hoisted)),
        _ => {}
    }
}

/// `DocGenJob--Base` + `template_file` → `DocGenJobBaseTemplateFile`, as typify names types.
pub(crate) fn pascal_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A shared parameter gets one shared type.
///
/// progenitor names the type of a parameter after the operation, so the one `box-version` parameter that every
/// operation `$ref`s becomes one identical enum per operation. Moving the parameter's schema to
/// `components.schemas` (named after the parameter) makes them all use one `BoxVersionHeader` enum. It stays a
/// closed enum: it is only ever sent, never received.
fn share_parameter_schemas(spec: &mut Value) {
    let Some(parameters) = spec.pointer_mut("/components/parameters").and_then(Value::as_object_mut) else {
        return;
    };
    let mut moved = Vec::new();
    for (name, parameter) in parameters.iter_mut() {
        if let Some(schema) = parameter.get_mut("schema").filter(|schema| schema.get("$ref").is_none()) {
            let reference = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
            moved.push((name.clone(), std::mem::replace(schema, reference)));
        }
    }
    if let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.extend(moved);
    }
}

/// A `multipart/form-data` body is bytes the facade encodes.
///
/// progenitor 0.15 stops on a multipart body (`unexpected content type: multipart/form-data`; multipart is
/// oxidecomputer/progenitor#518, unmerged). Box's uploads (`POST /files/content`, `POST /files/{id}/content`)
/// take one: a JSON `attributes` part, then the `file` part. The body becomes `application/octet-stream` (the
/// generated method takes any `Into<reqwest::Body>`), and the schema of each part that is an object moves to
/// `components.schemas` as `<OperationId>Body<Part>` (the name typify would give it inline), so that its type is
/// still generated. The facade writes the multipart encoding and its `content-type` (with the boundary), which
/// replaces the generated `application/octet-stream` through the pre-hook's headers.
fn multipart_bodies_are_bytes(spec: &mut Value) {
    let mut moved = Vec::new();
    for item in spec.get_mut("paths").and_then(Value::as_object_mut).into_iter().flat_map(|paths| paths.values_mut()) {
        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            let id = operation.get("operationId").and_then(Value::as_str).map(pascal_case).unwrap_or_default();
            let Some(content) = operation.pointer_mut("/requestBody/content").and_then(Value::as_object_mut) else {
                continue;
            };
            let Some(multipart) = content.remove("multipart/form-data") else { continue };
            for (part, schema) in
                multipart.pointer("/schema/properties").and_then(Value::as_object).into_iter().flatten()
            {
                if schema.get("type").and_then(Value::as_str) == Some("object") {
                    moved.push((format!("{id}Body{}", pascal_case(part)), schema.clone()));
                }
            }
            content.insert(
                "application/octet-stream".to_owned(),
                serde_json::json!({ "schema": { "type": "string", "format": "binary" } }),
            );
        }
    }
    if let Some(schemas) = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.extend(moved);
    }
}

/// An `OPTIONS` operation is generated as `GET`, and sent as `OPTIONS`.
///
/// progenitor 0.15 calls a `reqwest::Client` method named after the HTTP method, and reqwest has none for
/// `OPTIONS` or `TRACE` (only `get`, `post`, `put`, `patch`, `delete`, `head`), so the generated code does not
/// compile (`no method named options`). Box's upload pre-check is `OPTIONS /files/content`. Such an operation
/// is handed to progenitor as `GET` on the same path (refused if the path has a `GET` of its own), and
/// [`restore_methods`] gives the generated client a `ClientHooks::pre` that puts the real method back on the
/// request before it is sent. The operation table keeps the real method, read before the rewrites.
fn methods_reqwest_lacks_are_sent_as_get(spec: &mut Value) -> Result<Vec<(String, String)>, String> {
    let mut sent_as_get = Vec::new();
    for (path, item) in spec.get_mut("paths").and_then(Value::as_object_mut).into_iter().flatten() {
        let Some(item) = item.as_object_mut() else { continue };
        for method in ["options", "trace"] {
            let Some(operation) = item.remove(method) else { continue };
            if item.contains_key("get") {
                return Err(format!(
                    "{} {path}: the path has a GET too, so it cannot be generated as one",
                    method.to_uppercase()
                ));
            }
            let id = operation.get("operationId").and_then(Value::as_str).unwrap_or_default().to_owned();
            sent_as_get.push((id, method.to_uppercase()));
            item.insert("get".to_owned(), operation);
        }
    }
    Ok(sent_as_get)
}

/// The other half of [`methods_reqwest_lacks_are_sent_as_get`]: the hook that sends each operation of `sent_as_get` with its real method. Nothing
/// when there is none (progenitor's default hooks stay).
pub(crate) fn restore_methods(sent_as_get: &[(String, String)]) -> TokenStream {
    if sent_as_get.is_empty() {
        return quote!();
    }
    let arms = sent_as_get.iter().map(|(id, method)| {
        let method = Ident::new(method, Span::call_site());
        quote!(#id => *request.method_mut() = ::reqwest::Method::#method,)
    });
    quote! {
        /// Sends the operations that progenitor generated as `GET` with their real method
        /// (`methods_reqwest_lacks_are_sent_as_get` in `box-docgen-codegen`).
        impl ClientHooks<::reqwest::header::HeaderMap> for Client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                info: &OperationInfo,
            ) -> ::std::result::Result<(), Error<E>> {
                match info.operation_id {
                    #(#arms)*
                    _ => {}
                }
                Ok(())
            }
        }
    }
}

/// An optional header parameter is never `nullable`.
///
/// progenitor 0.15 renders an optional parameter whose schema is also `nullable` (Box's `x-rep-hints` on
/// `GET /files/{file_id}`) as `Option<Option<&str>>` in the signature but reads it as one `Option`, and the
/// generated code does not compile (`Option<&str>` has no `to_string`). A header cannot be `null` on the wire
/// (it is there or not), so dropping `nullable` from an optional header's schema changes nothing Box sees.
fn headers_are_never_null(operation: &mut Value) {
    let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
    for parameter in parameters.into_iter().flatten() {
        let optional_header = parameter.get("in").and_then(Value::as_str) == Some("header")
            && parameter.get("required") != Some(&Value::Bool(true));
        if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut).filter(|_| optional_header) {
            schema.remove("nullable");
        }
    }
}

/// A query array with `explode: false` is one comma-separated string.
///
/// progenitor 0.15 ignores `explode: false` and sends an array as repeated parameters (`fields=a&fields=b`);
/// Box reads `fields` as one comma-separated list (`fields=a,b`). The parameter becomes a string, and the
/// facade joins the values.
fn unexploded_arrays_are_strings(operation: &mut Value) {
    let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
    for parameter in parameters.into_iter().flatten() {
        let unexploded = parameter.get("in").and_then(Value::as_str) == Some("query")
            && parameter.get("explode") == Some(&Value::Bool(false))
            && parameter.pointer("/schema/type").and_then(Value::as_str) == Some("array");
        if unexploded {
            parameter["schema"] = serde_json::json!({ "type": "string" });
            if let Some(parameter) = parameter.as_object_mut() {
                parameter.remove("explode");
            }
        }
    }
}

/// The generation settings that go with the rewrites.
pub(crate) fn settings(open_enums: &[OpenEnum]) -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        // Setting 1: headers the facade adds to every request (Authorization, marked sensitive).
        // progenitor ignores `securitySchemes` (oxidecomputer/progenitor#420), so auth is the caller's job.
        .with_inner_type(quote!(::reqwest::header::HeaderMap))
        // Setting 2: the generated code sends `api-version: <info.version>` on every request, with no setting
        // to turn it off; Box does not document that header. The hook drops it and adds the facade's headers.
        .with_pre_hook(pre_hook());
    for open in open_enums {
        settings.with_replacement(
            &open.name,
            format!("crate::open_enums::{}", open.name),
            [progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr].into_iter(),
        );
    }
    settings
}

fn pre_hook() -> TokenStream {
    quote! {
        |headers: &::reqwest::header::HeaderMap, request: &mut ::reqwest::Request| {
            // A constant name: removing by `&str` would parse the name on every request.
            const API_VERSION: ::reqwest::header::HeaderName = ::reqwest::header::HeaderName::from_static("api-version");
            request.headers_mut().remove(&API_VERSION);
            for (name, value) in headers {
                request.headers_mut().insert(name, value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docgen_triggers_join_every_trigger_list_once() {
        let mut spec = serde_json::json!({ "a": { "enum": ["FILE.UPLOADED", "DOCGEN_DOCUMENT_GENERATION_FAILED"] },
            "b": [{ "enum": ["FILE.UPLOADED"] }], "c": { "enum": ["file", "folder"] } });
        add_docgen_triggers(&mut spec);
        let values = |pointer: &str| spec.pointer(pointer).and_then(Value::as_array).map(Vec::len);
        assert_eq!(values("/a/enum"), Some(4), "FAILED is not added twice");
        assert_eq!(values("/b/0/enum"), Some(4));
        assert_eq!(values("/c/enum"), Some(2), "other enums stay");
    }

    #[test]
    fn only_described_properties_stay_required() {
        let mut schema = serde_json::json!({ "properties": { "link": { "allOf": [
            { "type": "object", "properties": { "url": {} }, "required": ["url", "accessed"] }
        ], "nullable": true } } });
        only_described_properties_are_required(&mut schema);
        assert_eq!(schema.pointer("/properties/link/allOf/0/required"), Some(&serde_json::json!(["url"])));
        // Arms that share the properties between them keep what they require.
        let mut shared = serde_json::json!({ "allOf": [
            { "properties": { "a": {} } }, { "properties": { "b": {} }, "required": ["a", "b"] }
        ] });
        only_described_properties_are_required(&mut shared);
        assert_eq!(shared.pointer("/allOf/1/required"), Some(&serde_json::json!(["a", "b"])));
    }

    #[test]
    fn unexploded_query_arrays_become_strings() {
        let mut operation = serde_json::json!({ "parameters": [
            { "name": "fields", "in": "query", "explode": false, "schema": { "type": "array", "items": { "type": "string" } } },
            { "name": "ids", "in": "query", "schema": { "type": "array", "items": { "type": "string" } } }
        ] });
        unexploded_arrays_are_strings(&mut operation);
        assert_eq!(
            operation["parameters"][0],
            serde_json::json!({ "name": "fields", "in": "query", "schema": { "type": "string" } })
        );
        assert_eq!(operation["parameters"][1]["schema"]["type"], "array", "exploded arrays stay");
    }

    #[test]
    fn optional_header_parameters_are_not_nullable() {
        let mut operation = serde_json::json!({ "parameters": [
            { "name": "x-rep-hints", "in": "header", "schema": { "type": "string", "nullable": true } },
            { "name": "fields", "in": "query", "schema": { "type": "string", "nullable": true } }
        ] });
        headers_are_never_null(&mut operation);
        assert_eq!(operation["parameters"][0]["schema"], serde_json::json!({ "type": "string" }));
        assert_eq!(operation["parameters"][1]["schema"]["nullable"], true, "only headers");
    }

    #[test]
    fn pascal_case_matches_typify() {
        assert_eq!(pascal_case("DocGenJob--Base"), "DocGenJobBase");
        assert_eq!(pascal_case("status"), "Status");
        assert_eq!(pascal_case("template_file"), "TemplateFile");
    }

    #[test]
    fn hoists_inline_string_enums_and_leaves_plain_strings() {
        let mut spec = serde_json::json!({
            "paths": { "/x": { "get": { "responses": { "200": {}, "default": {} } } } },
            "components": { "schemas": { "Job--Base": { "type": "object", "properties": {
                "status": { "type": "string", "enum": ["a", "b"] },
                "output_type": { "type": "string" },
                "nested": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["k"] } } },
                "roles": { "type": "array", "items": { "type": "string", "enum": ["editor"] } }
            } } } }
        });
        let hoisted = normalize(&mut spec).expect("normalizes").open_enums;
        let names: Vec<_> = hoisted.iter().map(|open| open.name.as_str()).collect();
        assert_eq!(names, ["JobBaseStatus", "JobBaseNestedKind", "JobBaseRolesItem"]);
        assert_eq!(spec["paths"]["/x"]["get"]["responses"], serde_json::json!({}));
        let properties = &spec["components"]["schemas"]["Job--Base"]["properties"];
        assert_eq!(properties["status"], serde_json::json!({ "$ref": "#/components/schemas/JobBaseStatus" }));
        assert_eq!(properties["output_type"], serde_json::json!({ "type": "string" }));
        assert_eq!(spec["components"]["schemas"]["JobBaseStatus"]["enum"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn a_multipart_body_becomes_bytes_and_its_json_part_a_named_schema() {
        let attributes = serde_json::json!({ "type": "object", "properties": { "name": { "type": "string" } } });
        let mut spec = serde_json::json!({
            "paths": { "/files/content": { "post": { "operationId": "post_files_content", "requestBody": { "content": {
                "multipart/form-data": { "schema": { "type": "object", "properties": {
                    "attributes": attributes, "file": { "type": "string", "format": "binary" } } } } } } } } },
            "components": { "schemas": {} }
        });
        multipart_bodies_are_bytes(&mut spec);
        assert_eq!(
            spec.pointer("/paths/~1files~1content/post/requestBody/content"),
            Some(
                &serde_json::json!({ "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } })
            )
        );
        assert_eq!(spec["components"]["schemas"]["PostFilesContentBodyAttributes"], attributes);
        assert_eq!(spec["components"]["schemas"].as_object().map(Map::len), Some(1), "the file part is bytes");
    }

    #[test]
    fn an_options_operation_is_generated_as_get_and_restored_by_a_hook() {
        let mut spec = serde_json::json!({ "paths": {
            "/files/content": { "options": { "operationId": "options_files_content" }, "post": {} }
        } });
        let sent_as_get = methods_reqwest_lacks_are_sent_as_get(&mut spec).expect("no GET on the path");
        assert_eq!(sent_as_get, [("options_files_content".to_owned(), "OPTIONS".to_owned())]);
        assert_eq!(spec["paths"]["/files/content"]["get"]["operationId"], "options_files_content");
        assert!(spec["paths"]["/files/content"].get("options").is_none());
        let hook = restore_methods(&sent_as_get).to_string();
        assert!(
            hook.contains("\"options_files_content\" => * request . method_mut () = :: reqwest :: Method :: OPTIONS")
        );
        assert!(restore_methods(&[]).is_empty(), "no hook when nothing was rewritten");

        let mut taken = serde_json::json!({ "paths": { "/x": { "options": {}, "get": {} } } });
        assert!(methods_reqwest_lacks_are_sent_as_get(&mut taken).expect_err("a GET is there").contains("OPTIONS /x"));
    }

    #[test]
    fn a_shared_parameter_schema_becomes_one_named_schema() {
        let mut spec = serde_json::json!({ "components": {
            "parameters": { "BoxVersionHeader": { "name": "box-version", "in": "header",
                "schema": { "type": "string", "enum": ["2025.0"] } } },
            "schemas": {}
        } });
        share_parameter_schemas(&mut spec);
        assert_eq!(
            spec["components"]["parameters"]["BoxVersionHeader"]["schema"],
            serde_json::json!({ "$ref": "#/components/schemas/BoxVersionHeader" })
        );
        assert_eq!(spec["components"]["schemas"]["BoxVersionHeader"]["enum"], serde_json::json!(["2025.0"]));
    }

    #[test]
    fn null_schema_one_of_becomes_the_reference_when_optional() {
        let null_schema = serde_json::json!({ "type": "object", "nullable": true, "additionalProperties": false });
        let nullable_ref = serde_json::json!({ "allOf": [
            { "oneOf": [{ "$ref": "#/components/schemas/File" }, null_schema] },
            { "description": "d" }
        ] });
        let mut schema = serde_json::json!({ "type": "object", "required": ["kept"], "properties": {
            "output": nullable_ref, "kept": nullable_ref
        } });
        let mut found = Vec::new();
        optional_instead_of_null_schema(&mut schema, &mut found);
        assert_eq!(found, [NullObjectField { property: "output".to_owned(), type_name: "File".to_owned() }]);
        assert_eq!(
            schema["properties"]["output"],
            serde_json::json!({ "allOf": [{ "$ref": "#/components/schemas/File" }, { "description": "d" }] })
        );
        assert_eq!(schema["properties"]["kept"], nullable_ref);
    }
}
