//! The request previewer: the engine's own `validate` and `first_request` for a draft.

use super::convert::delta_query;
use crate::graph::round::plural;
use crate::graph::{Catalog, GraphRoot};
use crate::tui::app::QueryPreviewer;
use crate::tui::view::{ProblemView, QueryDraft, RequestPreview};

/// The request preview and validation messages, from the engine's own `validate` and
/// `first_request` (so what is shown is exactly what will be sent).
pub struct EnginePreviewer {
    pub(super) catalog: &'static Catalog,
    pub(super) root: GraphRoot,
}

impl EnginePreviewer {
    pub fn new(catalog: &'static Catalog, root: GraphRoot) -> Self {
        Self { catalog, root }
    }
}

impl QueryPreviewer for EnginePreviewer {
    fn set_root(&mut self, root: &str) {
        if let Ok(root) = GraphRoot::parse(root) {
            self.root = root;
        }
    }

    fn preview(&self, draft: &QueryDraft) -> (RequestPreview, Vec<ProblemView>) {
        let query = match delta_query(draft) {
            Ok(q) => q,
            Err(message) => {
                return (
                    RequestPreview {
                        url: Err(message.clone()),
                        headers: Vec::new(),
                    },
                    vec![ProblemView {
                        field: "api".into(),
                        message,
                        is_error: true,
                    }],
                );
            }
        };
        let v = query.validate(self.catalog);
        let mut problems: Vec<ProblemView> = v
            .errors
            .iter()
            .map(|p| ProblemView {
                field: p.field.clone(),
                message: p.message.clone(),
                is_error: true,
            })
            .collect();
        problems.extend(v.warnings.iter().map(|p| ProblemView {
            field: p.field.clone(),
            message: p.message.clone(),
            is_error: false,
        }));
        let preview = match query.first_request(self.catalog, &self.root) {
            Ok(req) => RequestPreview {
                url: Ok(req.url),
                headers: req.headers,
            },
            Err(_) => RequestPreview {
                // The problems are listed first, above the request.
                url: Err(format!(
                    "no request yet: fix the {} above",
                    plural(v.errors.len().max(1), "error", "errors")
                )),
                headers: Vec::new(),
            },
        };
        (preview, problems)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_is_the_engine_first_request() {
        let root = GraphRoot::parse("https://graph.microsoft.com").unwrap();
        let p = EnginePreviewer::new(Catalog::builtin(), root);
        let draft = QueryDraft {
            resource: "contacts".into(),
            api: "v1.0".into(),
            select: vec!["displayName".into(), "mail".into()],
            minimal: true,
            ..Default::default()
        };
        let (preview, problems) = p.preview(&draft);
        assert!(problems.iter().all(|p| !p.is_error), "{problems:?}");
        assert_eq!(
            preview.url.unwrap(),
            "https://graph.microsoft.com/v1.0/contacts/delta?$select=displayName,mail"
        );
        assert_eq!(
            preview.headers,
            vec![("Prefer".to_owned(), "return=minimal".to_owned())]
        );
        let recordings = QueryDraft {
            resource: "recordings".into(),
            api: "v1.0".into(),
            ..Default::default()
        };
        let (preview, problems) = p.preview(&recordings);
        assert_eq!(
            preview.url.unwrap_err(),
            "no request yet: fix the 1 error above"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.is_error && p.field == "meetingOrganizerUserId"),
            "{problems:?}"
        );
    }
}
