//! What the document says about every operation that no handler's annotation does: the answers
//! the extractors and the connection layer give whatever the handler (malformed JSON, a wrong
//! content type, a body of the wrong shape, a body that arrives too slowly, a malformed path or
//! query value), and the constraints every parameter of one name shares (a ticker's alphabet
//! and length, `days` up to this deployment's maximum). Kept in one place so a new route is
//! documented like the others, and checked against the live server by
//! `scripts/api-contract.sh`.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

use crate::routes::history::MAX_SYMBOLS_PER_CALL;

/// A ticker as `domain::Symbol::parse` takes it: letters, digits and `. - ^ =`.
pub fn symbol_pattern() -> String {
    format!("^{}$", symbol_class())
}

/// `symbols` of `/v1/daily`: 1 to [`MAX_SYMBOLS_PER_CALL`] tickers separated by commas.
pub fn symbol_list_pattern() -> String {
    let symbol = symbol_class();
    format!("^{symbol}(,{symbol}){{0,{}}}$", MAX_SYMBOLS_PER_CALL - 1)
}

/// `series` of `/v1/stocks/{symbol}/indicators`: 1 to
/// [`service::indicators::MAX_SERIES_PER_CALL`] entries `name[:param…][.output]` separated by
/// commas, the names from the catalogue. Ranges (which depend on the indicator and the
/// parameter's place) are in the catalogue, not the pattern.
pub fn series_list_pattern() -> String {
    let names: Vec<&str> = indicators::Indicator::catalogue()
        .iter()
        .map(|info| info.name)
        .collect();
    let entry = format!(
        "({})(:[0-9]{{1,4}}(\\.[0-9])?){{0,3}}(\\.[A-Za-z]{{1,12}})?",
        names.join("|")
    );
    format!(
        "^{entry}(,{entry}){{0,{}}}$",
        service::indicators::MAX_SERIES_PER_CALL - 1
    )
}

/// The longest ticker `domain::Symbol` holds (checked by a test below).
const MAX_SYMBOL_LEN: usize = 15;

fn symbol_class() -> String {
    format!("[A-Za-z0-9.^=-]{{1,{MAX_SYMBOL_LEN}}}")
}

/// Completes every operation of `doc` (see the module's doc).
pub(super) fn complete(doc: &mut OpenApi, max_days: u32) {
    open_flattened_bodies(doc);
    close_tagged_bodies(doc);
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            constrain_parameters(operation, max_days);
            add_edge_answers(operation);
        }
    }
}

/// A request body refusing unknown fields has `additionalProperties: false`; a response that
/// embeds its fields (serde `flatten`, an `allOf` with a `$ref` to it) adds fields of its own,
/// which that `false` would forbid. Such a `$ref` is replaced by a copy of the schema that
/// leaves other fields to the rest of the `allOf`.
fn open_flattened_bodies(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let closed: std::collections::BTreeMap<String, Object> = components
        .schemas
        .iter()
        .filter_map(|(name, schema)| match schema {
            RefOr::T(Schema::Object(object)) if object.additional_properties.is_some() => {
                let mut open = object.clone();
                open.additional_properties = None;
                Some((format!("#/components/schemas/{name}"), open))
            }
            _ => None,
        })
        .collect();
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all_of)) = schema else {
            continue;
        };
        for item in &mut all_of.items {
            if let RefOr::Ref(reference) = item
                && let Some(open) = closed.get(&reference.ref_location)
            {
                *item = RefOr::T(Schema::Object(open.clone()));
            }
        }
    }
}

/// Request bodies that are internally tagged enums (`"kind": …`) with `deny_unknown_fields`:
/// serde refuses unknown fields in every variant, but utoipa only marks structs so.
const CLOSED_TAGGED_BODIES: [&str; 1] = ["ChannelRequest"];

/// Marks every variant of [`CLOSED_TAGGED_BODIES`] `additionalProperties: false`.
fn close_tagged_bodies(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in CLOSED_TAGGED_BODIES {
        let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) else {
            continue;
        };
        for variant in &mut one_of.items {
            if let RefOr::T(Schema::Object(object)) = variant {
                object.additional_properties = Some(Box::new(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                ));
            }
        }
    }
}

fn constrain_parameters(operation: &mut Operation, max_days: u32) {
    // Where `days` is taken, `limit` is its other name (the history routes' `WindowQuery`);
    // elsewhere `limit` is a page size, documented where it is declared.
    let takes_days = operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| matches!(parameter, RefOr::T(parameter) if parameter.name == "days"));
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        let name = parameter.name.clone();
        let location = parameter.parameter_in.clone();
        let Some(schema) = object_schema(parameter) else {
            continue;
        };
        match (name.as_str(), location) {
            ("symbol", ParameterIn::Path) => schema.pattern = Some(symbol_pattern()),
            ("symbols", ParameterIn::Query) => schema.pattern = Some(symbol_list_pattern()),
            ("series", ParameterIn::Query) => schema.pattern = Some(series_list_pattern()),
            ("days", _) | ("limit", ParameterIn::Query) if name == "days" || takes_days => {
                schema.minimum = Some(1.into());
                // A route with its own bound (the sentiment's 90 days) keeps it.
                if schema.maximum.is_none() {
                    schema.maximum = Some(max_days.into());
                }
            }
            _ => {}
        }
    }
}

/// The schema object of a parameter, when it is an inline object (not a `$ref`).
fn object_schema(parameter: &mut Parameter) -> Option<&mut Object> {
    match parameter.schema.as_mut()? {
        RefOr::T(Schema::Object(object)) => Some(object),
        _ => None,
    }
}

/// Adds the answers the extractors and the server give before or around any handler.
fn add_edge_answers(operation: &mut Operation) {
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    let has_json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| match body {
            RefOr::T(body) => body.content.contains_key("application/json"),
            RefOr::Ref(_) => false,
        });
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem(description)));
    };
    if has_parameters {
        add(
            "400",
            "A malformed path or query value; the detail says which and what it takes",
        );
    }
    if has_json_body {
        add(
            "400",
            "Malformed JSON, or a body over 2 MiB; the detail says what is wrong",
        );
        add(
            "408",
            "The body did not arrive within `http_body_timeout` (the connection is closed)",
        );
        add(
            "415",
            "The body is not sent as `Content-Type: application/json`",
        );
        add(
            "422",
            "A body of the wrong shape (a missing, unknown or mistyped field); the detail names the field",
        );
    }
}

fn problem(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/problem+json".to_owned(),
        RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
    );
    response
}

#[cfg(test)]
mod tests {
    use domain::Symbol;

    use super::*;

    #[test]
    fn the_symbol_pattern_takes_what_symbol_parse_takes() {
        assert_eq!(symbol_pattern(), "^[A-Za-z0-9.^=-]{1,15}$");
        let longest = "A".repeat(MAX_SYMBOL_LEN);
        assert!(Symbol::parse(&longest).is_ok());
        assert!(Symbol::parse(&format!("{longest}A")).is_err());
        for text in ["msft", "BRK.B", "^GSPC", "EURUSD=X", "BRK-B", "0"] {
            assert!(Symbol::parse(text).is_ok(), "{text}");
        }
        for text in ["MS FT", "MSFT/", "Ó", "MSFT_"] {
            assert!(Symbol::parse(text).is_err(), "{text}");
        }
    }
}
