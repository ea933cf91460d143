//! Fuzz-style properties for bodies a hostile server can send (issue 11): the engine's page
//! reader and the explorer's JSON pane (its pretty-printer, its drawing, the object table's
//! cells) are fed random and adversarial bodies — nesting up to 200,000 deep, strings of
//! megabytes, control characters, bidi overrides, long keys, garbage — and must not panic,
//! must take time and memory linear in the body, and must show nothing that acts on a terminal.
//!
//! Time is judged against a rate measured in the same process on an ordinary Graph page (so a
//! slow or busy machine moves both), with a wide margin: a quadratic cost on these sizes is
//! thousands of times over it. `PROPTEST_CASES` overrides the number of random bodies (default
//! 100, a few seconds).
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use deltascope::graph::{Page, PageRequest, RequestKind, Session};
use deltascope::text::is_unsafe;
use deltascope::tui::engine::{RoundShape, page_view};
use deltascope::tui::json_view::{JsonDoc, JsonView};
use proptest::prelude::*;

/// Memory of a prepared document: at most this many bytes per body byte, plus a constant.
const BYTES_PER_BYTE: usize = 12;
/// Time: at most this many times the rate of an ordinary page, plus a constant.
const SLOWER: f64 = 60.0;
const GRACE: Duration = Duration::from_millis(250);

fn request() -> PageRequest {
    PageRequest {
        url: "http://127.0.0.1:1/v1.0/contacts/delta".into(),
        headers: vec![],
        kind: RequestKind::Initial,
    }
}

/// Seconds per byte to read and show an ordinary page (2,000 contacts), the fastest of three.
fn baseline() -> f64 {
    static RATE: OnceLock<f64> = OnceLock::new();
    *RATE.get_or_init(|| {
        let items: Vec<String> = (0..2_000)
            .map(|i| {
                format!(
                    r#"{{"id":"{i:08x}-7c6a-4d21-9c2e-0d3c9b6a1e11","displayName":"Contact {i}","mail":"c{i}@contoso.com","jobTitle":"Engineer","phones":[{{"type":"business","number":"+1 555 0100"}}]}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"value":[{}],"@odata.deltaLink":"http://127.0.0.1:1/v1.0/contacts/delta?$deltatoken=x"}}"#,
            items.join(",")
        );
        (0..3)
            .map(|_| show(body.as_bytes()).0.as_secs_f64() / body.len() as f64)
            .fold(f64::MAX, f64::min)
    })
}

/// Everything the explorer does with a body: the engine reads it, the table's cells are built,
/// the JSON pane pretty-prints the page and each object, and draws a few windows of each.
/// Returns the time taken and the largest document's heap bytes.
fn show(body: &[u8]) -> (Duration, usize) {
    let started = Instant::now();
    let mut largest = 0;
    if let Ok(page) = Page::parse(request(), body.to_vec()) {
        // As the fetch worker does: the session applies the page, its outcomes mark the rows.
        let report = Session::new(request()).apply(&page);
        let view = page_view(&page, 1, RoundShape::default(), &report.outcomes);
        for row in &view.rows {
            for (name, value) in row.cells() {
                assert_safe(name);
                assert_safe(value);
            }
            let _ = row.id();
            if let Some(reason) = row.removed() {
                assert_safe(reason);
            }
            largest = largest.max(check_doc(&row.json, row.json.len()));
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        largest = largest.max(check_doc(text, body.len()));
    }
    (started.elapsed(), largest)
}

/// Pretty-prints `text`, checks what it shows and draws a few windows of it.
fn check_doc(text: &str, len: usize) -> usize {
    let doc = JsonDoc::pretty(text);
    let bytes = doc.heap_bytes();
    assert!(
        bytes <= BYTES_PER_BYTE * len + 4096,
        "{bytes} bytes of document for a {len}-byte body"
    );
    for n in 0..doc.line_count() {
        assert_safe(doc.line(n));
    }
    let lines = doc.line_count();
    let mut view = JsonView::new(Arc::new(doc));
    for top in [0, lines / 2, lines.saturating_sub(40)] {
        view.top = top;
        for line in view.visible_lines(40, 120, &deltascope::tui::theme::Theme::dark()) {
            let width: usize = line.spans.iter().map(|s| s.content.chars().count()).sum();
            assert!(width <= 120 + 8, "a line of {width} characters drawn");
        }
        // Scrolled sideways as far as it goes, then wrapped: still what the pane holds.
        for _ in 0..100 {
            view.scroll_sideways(1_000, 40, 120);
        }
        for wrap in [false, true] {
            view.wrap = wrap;
            let drawn = view.visible_lines(40, 120, &deltascope::tui::theme::Theme::dark());
            assert!(drawn.len() <= 40, "{} rows drawn", drawn.len());
            for line in drawn {
                let width: usize = line.spans.iter().map(|s| s.content.chars().count()).sum();
                assert!(width <= 120, "a line of {width} characters drawn");
            }
        }
        view.wrap = false;
        view.left = 0;
    }
    bytes
}

fn assert_safe(s: &str) {
    if let Some(c) = s.chars().find(|&c| is_unsafe(c)) {
        panic!(
            "{:?} shown raw in {:?}",
            c,
            s.chars().take(80).collect::<String>()
        );
    }
}

/// Shows `body` and checks time and memory against the baseline.
fn check(body: &[u8]) {
    let (took, _) = show(body);
    let allowed = GRACE + Duration::from_secs_f64(baseline() * SLOWER * body.len() as f64);
    assert!(
        took <= allowed,
        "{} bytes took {took:?} (allowed {allowed:?})",
        body.len()
    );
}

/// Characters a hostile server likes.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\u{1b}'),
        Just('\u{7}'),
        Just('\u{9b}'),
        Just('\u{85}'),
        Just('\u{7f}'),
        Just('\u{202e}'),
        Just('\u{2066}'),
        Just('\u{2069}'),
        Just('\u{0}'),
        Just('\n'),
        Just('\t'),
        Just('"'),
        Just('\\'),
        Just('é'),
        Just('漢'),
        Just('a'),
        Just('{'),
        Just('['),
    ]
}

/// A JSON string literal holding `s`: escaped as JSON (`escaped`), or with the characters put
/// in raw (invalid JSON for controls, valid for bidi overrides).
fn literal(s: &str, escaped: bool) -> String {
    if escaped {
        serde_json::to_string(s).unwrap()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[derive(Debug, Clone)]
enum Body {
    /// An item nested `depth` deep (objects or arrays), closed or cut short.
    Deep {
        depth: usize,
        objects: bool,
        closed: bool,
    },
    /// One string of `len` copies of `c`, as a value or as a key.
    Huge {
        len: usize,
        c: char,
        key: bool,
        escaped: bool,
    },
    /// Items whose names and values hold nasty characters.
    Nasty {
        pairs: Vec<(String, String)>,
        escaped: bool,
    },
    /// Random JSON-ish tokens.
    Garbage(Vec<&'static str>),
}

fn nasty_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(nasty_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (1usize..200_000, any::<bool>(), any::<bool>()).prop_map(|(depth, objects, closed)| {
            Body::Deep {
                depth,
                objects,
                closed,
            }
        }),
        (
            0usize..2_000_000,
            nasty_char(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(len, c, key, escaped)| Body::Huge {
                len,
                c,
                key,
                escaped
            }),
        (
            proptest::collection::vec((nasty_string(40), nasty_string(40)), 0..30),
            any::<bool>()
        )
            .prop_map(|(pairs, escaped)| Body::Nasty { pairs, escaped }),
        proptest::collection::vec(
            proptest::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                "\"",
                ",",
                ":",
                "\\",
                "1",
                "-",
                "true",
                "n",
                " ",
                "\n",
                "\u{1b}]0;x\u{7}",
                "\u{202e}",
                "é",
                "\"id\"",
                "\"value\"",
                "\u{9b}",
            ]),
            0..20_000
        )
        .prop_map(Body::Garbage),
    ]
}

fn render(b: &Body) -> Vec<u8> {
    let page = |items: &str| {
        format!(
            r#"{{"value":[{items}],"@odata.deltaLink":"http://127.0.0.1:1/v1.0/contacts/delta?$deltatoken=x"}}"#
        )
    };
    match b {
        Body::Deep {
            depth,
            objects,
            closed,
        } => {
            let (open, close) = if *objects {
                (r#"{"a":"#, "}")
            } else {
                ("[", "]")
            };
            let mut deep = open.repeat(*depth);
            deep.push('1');
            if *closed {
                deep.push_str(&close.repeat(*depth));
            }
            page(&format!(r#"{{"id":"deep","x":{deep}}}"#)).into_bytes()
        }
        Body::Huge {
            len,
            c,
            key,
            escaped,
        } => {
            let s = literal(&c.to_string().repeat(*len), *escaped);
            let item = if *key {
                format!(r#"{{"id":"huge",{s}:1}}"#)
            } else {
                format!(r#"{{"id":"huge","displayName":{s}}}"#)
            };
            page(&item).into_bytes()
        }
        Body::Nasty { pairs, escaped } => {
            let items: Vec<String> = pairs
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    format!(
                        r#"{{"id":{},{}:{},"@removed":{{"reason":{}}}}}"#,
                        literal(&format!("{i}{v}"), *escaped),
                        literal(k, *escaped),
                        literal(v, *escaped),
                        literal(v, *escaped)
                    )
                })
                .collect();
            page(&items.join(",")).into_bytes()
        }
        Body::Garbage(tokens) => tokens.concat().into_bytes(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(100),
        max_shrink_iters: 50,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_bodies_are_read_and_shown_in_linear_time_and_memory(b in body()) {
        check(&render(&b));
    }
}

/// The shapes of the issue, at their full size, every run.
#[test]
fn the_worst_known_bodies_stay_linear() {
    for b in [
        // 600 KB whose one item nests 100,000 deep (the issue's page).
        Body::Deep {
            depth: 100_000,
            objects: true,
            closed: true,
        },
        Body::Deep {
            depth: 200_000,
            objects: false,
            closed: false,
        },
        Body::Huge {
            len: 10_000_000,
            c: '\u{202e}',
            key: false,
            escaped: false,
        },
        Body::Huge {
            len: 2_000_000,
            c: '\u{1b}',
            key: true,
            escaped: true,
        },
    ] {
        check(&render(&b));
    }
    // Bare brackets: one byte per level, nothing else.
    check("[".repeat(200_000).as_bytes());
    check(format!("[{}1]", "1,".repeat(300_000)).as_bytes());
}
