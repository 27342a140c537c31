//! Open enums: the Rust for a string enum that also accepts values it does not know.
//!
//! See `hoist_string_enums` in [`crate::workarounds`] for why typify's own enums are replaced.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use serde_json::Value;

/// A string enum moved out of line by the normalization, with the values the fragment lists.
#[derive(Debug, Clone)]
pub(crate) struct OpenEnum {
    /// The component name, which is also the Rust type name.
    pub(crate) name: String,
    /// The schema as it stood in the fragment.
    pub(crate) schema: Value,
    values: Vec<String>,
}

impl OpenEnum {
    /// `Some` when `schema` is a string schema with an `enum` list.
    pub(crate) fn from_schema(name: &str, schema: &Value) -> Option<Self> {
        if schema.get("type")? != "string" {
            return None;
        }
        let values: Option<Vec<String>> =
            schema.get("enum")?.as_array()?.iter().map(|value| value.as_str().map(str::to_owned)).collect();
        let values = values.filter(|values| !values.is_empty())?;
        Some(Self { name: name.to_owned(), schema: schema.clone(), values })
    }

    fn tokens(&self) -> Result<TokenStream, String> {
        let name = Ident::new(&self.name, Span::call_site());
        let values = &self.values;
        let variants: Vec<Ident> = values.iter().map(|value| variant_ident(value)).collect();
        for (index, variant) in variants.iter().enumerate() {
            if variant == "Unknown" || variants[..index].contains(variant) {
                return Err(format!("{}: the value `{}` has no distinct Rust name", self.name, values[index]));
            }
        }
        let description = self.schema.get("description").and_then(Value::as_str).unwrap_or_default();
        let listed = values.iter().map(|value| format!("`{value}`")).collect::<Vec<_>>().join(", ");
        let doc = format!("{description}\n\nKnown values: {listed}. Any other value decodes as `Unknown`.");
        let variant_docs = values.iter().map(|value| format!("`{value}`"));
        let schema_description = format!("{description} Known values: {listed}; others may appear.");
        let type_name = &self.name;
        Ok(quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #( #[doc = #variant_docs] #variants, )*
                /// A value this version of the client does not know, exactly as Box sent it.
                Unknown(::std::string::String),
            }

            impl #name {
                /// The value as Box spells it on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #( Self::#variants => #values, )*
                        Self::Unknown(value) => value.as_str(),
                    }
                }
            }

            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #( #values => Self::#variants, )*
                        other => Self::Unknown(other.to_owned()),
                    }
                }
            }

            impl ::std::convert::From<::std::string::String> for #name {
                fn from(value: ::std::string::String) -> Self {
                    match value.as_str() {
                        #( #values => Self::#variants, )*
                        _ => Self::Unknown(value),
                    }
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    deserializer.deserialize_str(OpenEnumVisitor(::std::marker::PhantomData))
                }
            }

            impl ::schemars::JsonSchema for #name {
                fn schema_name() -> ::std::string::String {
                    #type_name.to_owned()
                }

                fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                    ::schemars::schema::SchemaObject {
                        instance_type: Some(::schemars::schema::InstanceType::String.into()),
                        metadata: Some(::std::boxed::Box::new(::schemars::schema::Metadata {
                            description: Some(#schema_description.to_owned()),
                            ..Default::default()
                        })),
                        ..Default::default()
                    }
                    .into()
                }
            }
        })
    }
}

/// `completed_with_error` → `CompletedWithError`; `for-loop` → `ForLoop`; `FILE.UPLOADED` → `FileUploaded`; a
/// leading digit gets a `V`.
fn variant_ident(value: &str) -> Ident {
    let mut name: String = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            // An all-capitals word reads as a word, not as an acronym of its letters.
            let part =
                if part.chars().any(|c| c.is_ascii_lowercase()) { part.to_owned() } else { part.to_ascii_lowercase() };
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    if name.is_empty() {
        name.push_str("Empty");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    Ident::new(&name, Span::call_site())
}

/// The `open_enums` module: every hoisted enum, plus the visitor they share.
pub(crate) fn module(enums: &[OpenEnum]) -> Result<TokenStream, String> {
    let items = enums.iter().map(OpenEnum::tokens).collect::<Result<Vec<_>, _>>()?;
    Ok(quote! {
        /// String enums that keep values this client does not know yet (see `crates/box-docgen-codegen`).
        pub mod open_enums {
            #(#items)*

            struct OpenEnumVisitor<T>(::std::marker::PhantomData<T>);

            impl<'de, T> ::serde::de::Visitor<'de> for OpenEnumVisitor<T>
            where
                T: for<'a> ::std::convert::From<&'a str> + ::std::convert::From<::std::string::String>,
            {
                type Value = T;

                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str("a string")
                }

                fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<T, E> {
                    Ok(T::from(value))
                }

                fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<T, E> {
                    Ok(T::from(value))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn variant_names() {
        for (value, name) in [
            ("completed_with_error", "CompletedWithError"),
            ("for-loop", "ForLoop"),
            ("FILE.UPLOADED", "FileUploaded"),
            ("DOCGEN_DOCUMENT_GENERATION_FAILED", "DocgenDocumentGenerationFailed"),
            ("2025.0", "V20250"),
        ] {
            assert_eq!(super::variant_ident(value).to_string(), name);
        }
    }
}
