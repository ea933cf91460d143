//! jq filters over JSON the explorer holds (a page, the replica), with the `jaq` crates: a
//! maintained implementation of jq in Rust. Bounded: at most [`MAX_OUTPUTS`] values and
//! [`MAX_OUTPUT_BYTES`] of text come out, whatever the filter does.
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

pub const MAX_OUTPUTS: usize = 100_000;
pub const MAX_OUTPUT_BYTES: usize = 64 << 20;

/// What a filter gave: its values as JSON text, and whether the output was cut.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub values: Vec<String>,
    pub cut: bool,
}

/// Runs `filter` on `input` (one JSON text). A filter that does not parse or compile, an
/// input that is not JSON, or a runtime error is an `Err` that says which.
pub fn run(filter: &str, input: &[u8]) -> Result<Output, String> {
    let input =
        jaq_json::read::parse_single(input).map_err(|e| format!("the input is not JSON: {e}"))?;
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(
            &arena,
            File {
                code: filter,
                path: (),
            },
        )
        .map_err(|errs| format!("the filter does not parse ({})", describe(&errs)))?;
    let compiled = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errs| format!("the filter does not compile ({})", describe(&errs)))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&compiled.lut, Vars::new([]));
    let mut out = Output::default();
    let mut bytes = 0;
    for value in compiled.id.run((ctx, input)).map(unwrap_valr) {
        let value = value.map_err(|e| format!("the filter failed: {e}"))?;
        let text = value.to_string();
        bytes += text.len();
        if out.values.len() >= MAX_OUTPUTS || bytes > MAX_OUTPUT_BYTES {
            out.cut = true;
            break;
        }
        out.values.push(text);
    }
    Ok(out)
}

fn describe<T: std::fmt::Debug>(errs: &T) -> String {
    let text = format!("{errs:?}");
    text.chars().take(300).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_runs_and_a_bad_one_says_why() {
        let page =
            br#"{"value":[{"id":"a","n":1},{"id":"b","n":2,"@removed":{"reason":"deleted"}}]}"#;
        let out = run(r#".value[] | select(has("@removed") | not) | .id"#, page).unwrap();
        assert_eq!(out.values, vec!["\"a\""]);
        let out = run("[.value[].n] | add", page).unwrap();
        assert_eq!(out.values, vec!["3"]);
        assert!(run(".value[", page).unwrap_err().contains("does not parse"));
        assert!(
            run("nosuchfunction", page)
                .unwrap_err()
                .contains("does not compile")
        );
        assert!(run(".", b"not json").unwrap_err().contains("not JSON"));
        let many = run("range(1000000)", b"null").unwrap();
        assert!(many.cut && many.values.len() == MAX_OUTPUTS);
    }
}
