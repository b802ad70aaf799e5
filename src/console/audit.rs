//! The console's audit trail: every view of a claim document and every change is
//! recorded with the person, their roles, the action and (for deadline changes and
//! redactions) their reason, under the object's partition and in the person's index
//! (GSI1 `WHO#<who>`), before the answer is sent. A failed write fails the request.

use serde_json::{Value, json};

use super::session::Session;
use crate::model::{audit_event, keys};
use crate::store::{StoreError, TxOp};

/// Tries this many sequence numbers when two events land in the same millisecond.
const ATTEMPTS: u32 = 8;

/// Records `what` done by the person on the object partition `pk` (`keys::doc(..)`,
/// `keys::case(..)`), with `details` (never document text).
pub async fn record(
    state: &super::State,
    session: &Session,
    pk: String,
    what: &str,
    details: Value,
) -> Result<(), StoreError> {
    let at = state
        .app
        .clock
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut details = details;
    if let Value::Object(map) = &mut details {
        map.insert("channel".into(), "console".into());
        map.insert("roles".into(), json!(session.role_names()));
        map.insert("name".into(), session.name.clone().into());
    }
    let mut last = None;
    for seq in 0..ATTEMPTS {
        let TxOp::Put {
            mut item,
            condition,
        } = audit_event(
            pk.clone(),
            &at,
            5000 + seq,
            &session.who,
            what,
            details.clone(),
        )
        else {
            unreachable!("audit_event is a put");
        };
        item.insert("GSI1PK".into(), keys::who(&session.who).into());
        item.insert("GSI1SK".into(), format!("{at}#{pk}").into());
        match state.app.stores.table.put(item, condition).await {
            Ok(()) => return Ok(()),
            Err(e @ StoreError::ConditionFailed { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(StoreError::ConditionFailed {
        what: "audit event".into(),
    }))
}
