//! Box's "OpenAPI 3.0 null schema" arm, read as Box's contract allows: `null`, absent, or `{}` all mean "none".
//!
//! See `optional_instead_of_null_schema` in [`crate::workarounds`]: the rewrite gives such a property its
//! referenced type, typify renders it as `Option<T>`, and [`patch`] then gives that field a deserializer that also reads the null
//! schema's other valid value, an empty object, as `None`. typify has no setting to attach a deserializer
//! to one field, so the patch is applied to the generated syntax tree.

use proc_macro2::TokenStream;
use quote::quote;

/// A property whose `oneOf` had a null-schema arm: its JSON name and the Rust type of its other arm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NullObjectField {
    pub(crate) property: String,
    pub(crate) type_name: String,
}

/// Adds `#[serde(default, deserialize_with = "crate::null_object::deserialize")]` to every field of the
/// generated `types` module that is one of `fields`: named as the property (or renamed to it) and typed
/// `Option<type_name>`. Returns how many fields were patched.
pub(crate) fn patch(file: &mut syn::File, fields: &[NullObjectField]) -> usize {
    let mut patched = 0;
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else { continue };
        if module.ident != "types" {
            continue;
        }
        for item in module.content.iter_mut().flat_map(|(_, items)| items) {
            let syn::Item::Struct(item) = item else { continue };
            for field in item.fields.iter_mut() {
                if fields.iter().any(|wanted| is_field(field, wanted)) {
                    let attribute: syn::Attribute = syn::parse_quote!(
                        #[serde(default, deserialize_with = "crate::null_object::deserialize")]
                    );
                    field.attrs.push(attribute);
                    patched += 1;
                }
            }
        }
    }
    patched
}

fn is_field(field: &syn::Field, wanted: &NullObjectField) -> bool {
    let Some(ident) = &field.ident else { return false };
    let renamed = field.attrs.iter().any(|attribute| {
        let text = quote!(#attribute).to_string();
        text.contains("rename") && text.contains(&format!("\"{}\"", wanted.property))
    });
    if ident != wanted.property.as_str() && !renamed {
        return false;
    }
    let ty = &field.ty;
    let ty = quote!(#ty).to_string().replace(' ', "");
    ty == format!("::std::option::Option<{}>", wanted.type_name)
}

/// The `null_object` module of the generated crate.
pub(crate) fn module() -> TokenStream {
    quote! {
        /// Reads Box's nullable references (see `optional_instead_of_null_schema` in `crates/box-docgen-codegen`).
        pub mod null_object {
            use ::serde::de::{self, Deserialize, Deserializer, IntoDeserializer, MapAccess};

            /// `null`, an absent field (with `#[serde(default)]`) and `{}` are `None`; any other object is
            /// decoded as `T`, with errors naming their path inside the object.
            pub fn deserialize<'de, D, T>(deserializer: D) -> ::std::result::Result<::std::option::Option<T>, D::Error>
            where
                D: Deserializer<'de>,
                T: Deserialize<'de>,
            {
                deserializer.deserialize_any(NullObject(::std::marker::PhantomData))
            }

            struct NullObject<T>(::std::marker::PhantomData<T>);

            impl<'de, T: Deserialize<'de>> de::Visitor<'de> for NullObject<T> {
                type Value = ::std::option::Option<T>;

                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str("an object, an empty object or null")
                }

                fn visit_unit<E: de::Error>(self) -> ::std::result::Result<Self::Value, E> {
                    Ok(None)
                }

                fn visit_none<E: de::Error>(self) -> ::std::result::Result<Self::Value, E> {
                    Ok(None)
                }

                fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> ::std::result::Result<Self::Value, D::Error> {
                    deserializer.deserialize_any(self)
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<Self::Value, A::Error> {
                    // The first key tells `{}` from an object; it is then handed back to `T` in front of
                    // the rest, so `T` reads the object as if nothing had been taken.
                    let Some(first) = map.next_key::<::std::string::String>()? else {
                        return Ok(None);
                    };
                    let rest = FirstKeyThen { first: Some(first), rest: map };
                    T::deserialize(de::value::MapAccessDeserializer::new(rest)).map(Some)
                }
            }

            struct FirstKeyThen<A> {
                first: ::std::option::Option<::std::string::String>,
                rest: A,
            }

            impl<'de, A: MapAccess<'de>> MapAccess<'de> for FirstKeyThen<A> {
                type Error = A::Error;

                fn next_key_seed<K: de::DeserializeSeed<'de>>(
                    &mut self,
                    seed: K,
                ) -> ::std::result::Result<::std::option::Option<K::Value>, A::Error> {
                    match self.first.take() {
                        Some(first) => seed.deserialize(first.into_deserializer()).map(Some),
                        None => self.rest.next_key_seed(seed),
                    }
                }

                fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> ::std::result::Result<V::Value, A::Error> {
                    self.rest.next_value_seed(seed)
                }
            }
        }
    }
}
