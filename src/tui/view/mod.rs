//! Plain data the panes draw from. The runtime fills these from the engine once, when the data
//! arrives; drawing only slices them (nothing here is parsed or formatted per frame).
pub mod fetch;
pub mod marks;
pub mod query;
pub mod replica;
pub mod rows;
pub mod search;
pub mod shared_text;
pub mod sign_in;
pub mod store;
pub mod text;
pub mod token;
pub mod wrap;

pub use fetch::{ErrorView, Fetch, FetchState};
pub use marks::{Mark, PageMarks};
pub use query::{
    MAX_IDS, ParamView, ProblemView, QueryDraft, QueryView, RequestPreview, ResourceView,
    SelectView, redact_header,
};
pub use replica::{ReplicaRow, ReplicaView};
pub use rows::{MAX_COLUMN, ObjectRow, PageView, RoundView, ShownRow, WidthMemo, Widths};
pub use search::{SearchHit, SearchPage, SearchView};
pub use shared_text::SharedText;
pub use sign_in::{
    DeviceCodeView, ProfileEntry, ProfilesView, SignInState, SignInTarget, SignedIn,
};
pub use store::{HistoryRole, HistoryView, ResumedRound, ResumedView, SessionEntry, SessionsView};
pub use text::{LINE, cell_text, clipped};
pub use token::{TokenCheckView, TokenView};
pub use wrap::{wrap, wrap_spans};
