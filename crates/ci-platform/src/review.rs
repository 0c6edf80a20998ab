//! Feedback on a change under review: the one comment kayobe-automation keeps
//! per purpose on a pull request (GitHub) or merge request (GitLab), updated
//! in place, and commit statuses.
//!
//! A comment is found again by a hidden marker line (`<!--
//! kayobe-automation:<marker> -->`) that opens its text, so every push updates
//! the same comment instead of adding one. Only comments the token may edit
//! are taken: one by somebody else that copies the marker answers 403 and is
//! passed over, and one deleted by hand between listing and editing (404)
//! leads to a new comment. A body longer than the platform takes is cut at a
//! line, open `<details>` blocks and code fences are closed, and the caller's
//! overflow note (a pointer to the full report) is added, so the API never
//! refuses it for its size.

use std::future::Future;

use crate::PlatformError;
use serde_json::json;

use crate::retry::{Answer, Api, Call, IdJson, Method, expect_permitted};

/// A comment to keep on a pull or merge request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// What the comment is for, e.g. `config-diff/production`: one comment
    /// per marker. Characters other than ASCII letters, digits and `._/:-`
    /// are replaced, so the marker cannot end the HTML comment it sits in.
    pub marker: String,
    /// The Markdown text.
    pub body: String,
    /// Added after a body cut to fit, e.g. where the full report is.
    pub overflow_note: String,
}

/// What [`crate::Platform::upsert_comment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOutcome {
    /// No comment carried the marker (or none could be edited): one was added.
    Created {
        /// The new comment's id.
        id: u64,
    },
    /// The comment carrying the marker now holds the new text.
    Updated {
        /// The comment's id.
        id: u64,
    },
}

/// The state of a commit status (GitHub) or external job status (GitLab).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// Under way.
    Pending,
    /// Done, and good.
    Success,
    /// Done, and what it checked is wrong (GitLab: `failed`).
    Failure,
    /// It could not run (GitLab has no such state: `failed` too).
    Error,
}

/// A status on a commit, named by its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    /// The status's name, e.g. `kayobe-automation/config-diff/production`
    /// (GitHub `context`, GitLab `name`): a new status of the same name
    /// replaces the old one.
    pub context: String,
    /// Its state.
    pub state: StatusState,
    /// One line, e.g. `12 changes`; cut to [`STATUS_DESCRIPTION_LIMIT`].
    pub description: String,
    /// A link to the details (the job, the report).
    pub target_url: Option<String>,
}

/// GitHub refuses a status description longer than this.
pub const STATUS_DESCRIPTION_LIMIT: usize = 140;

/// A comment as the platform lists it.
#[derive(Debug, Clone)]
pub(crate) struct ListedComment {
    pub id: u64,
    pub body: String,
}

/// What an edit of an existing comment came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    Done,
    /// 404: deleted since it was listed.
    Gone,
    /// 403: somebody else's comment.
    NotOurs,
}

/// What an edit's answer means, the same on both platforms.
pub(crate) fn edit_outcome(call: &Call, answer: &Answer) -> Result<Edit, PlatformError> {
    match answer.status {
        200 => Ok(Edit::Done),
        404 => Ok(Edit::Gone),
        403 => Ok(Edit::NotOurs),
        _ => Err(call.status_error(answer)),
    }
}

/// The comment calls a backend provides; [`upsert`] is the same for both.
pub(crate) trait CommentApi: Api {
    /// The longest comment text the platform takes, in characters.
    const COMMENT_LIMIT: usize;
    /// How messages write a change: `#` before a pull request's number,
    /// `!` before a merge request's.
    const CHANGE_MARK: char;
    /// The permission commenting needs, for a 403's message.
    const NEEDS_COMMENTS: &'static str;

    /// The path that creates a comment on change `number`.
    fn comments_path(&self, number: u64) -> String;

    /// The method and path that replace comment `id` of change `number`.
    fn comment_edit(&self, number: u64, id: u64) -> (Method, String);

    /// Every comment on change `number`, oldest first.
    fn comments(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Vec<ListedComment>, PlatformError>> + Send;

    /// Adds a comment and returns its id.
    fn create_comment(
        &self,
        number: u64,
        text: &str,
    ) -> impl Future<Output = Result<u64, PlatformError>> + Send {
        async move {
            let path = self.comments_path(number);
            let (call, answer) = expect_permitted(
                self,
                (Method::Post, &path, Some(&json!({"body": text}))),
                &[201],
                || format!("comment on {}{number}", Self::CHANGE_MARK),
                Self::NEEDS_COMMENTS,
            )
            .await?;
            Ok(answer.json::<IdJson>(&call)?.id)
        }
    }

    /// Replaces comment `id`'s text.
    fn edit_comment(
        &self,
        number: u64,
        id: u64,
        text: &str,
    ) -> impl Future<Output = Result<Edit, PlatformError>> + Send {
        async move {
            let (method, path) = self.comment_edit(number, id);
            let (call, answer) = self
                .send(method, &path, Some(&json!({"body": text})))
                .await?;
            edit_outcome(&call, &answer)
        }
    }
}

/// Updates the newest editable comment carrying `comment`'s marker, or adds one.
pub(crate) async fn upsert<A: CommentApi>(
    api: &A,
    number: u64,
    comment: &Comment,
) -> Result<CommentOutcome, PlatformError> {
    let marker = marker_line(&comment.marker);
    let text = comment_text(&marker, comment, A::COMMENT_LIMIT);
    let listed = api.comments(number).await?;
    for existing in listed.iter().rev() {
        if existing.body.lines().next() != Some(marker.as_str()) {
            continue;
        }
        match api.edit_comment(number, existing.id, &text).await? {
            Edit::Done => return Ok(CommentOutcome::Updated { id: existing.id }),
            Edit::Gone | Edit::NotOurs => {}
        }
    }
    let id = api.create_comment(number, &text).await?;
    Ok(CommentOutcome::Created { id })
}

/// The hidden first line that finds a comment again.
fn marker_line(marker: &str) -> String {
    let safe: String = marker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    // `--` inside an HTML comment is not allowed either.
    let safe = safe.replace("--", "-_");
    format!("<!-- kayobe-automation:{safe} -->")
}

/// The marker line and the body, cut to `limit` characters when needed.
fn comment_text(marker: &str, comment: &Comment, limit: usize) -> String {
    let whole = format!("{marker}\n{}", comment.body);
    if whole.chars().count() <= limit {
        return whole;
    }
    let mut room =
        limit.saturating_sub(marker.chars().count() + comment.overflow_note.chars().count());
    loop {
        let text = cut_text(marker, comment, room);
        if text.chars().count() <= limit || room == 0 {
            return text;
        }
        // The closing tags took more than the slack: keep less.
        room = room * 3 / 4;
    }
}

/// The marker, the body's whole lines within `room` characters, its open
/// code fence and `<details>` blocks closed, and the overflow note.
fn cut_text(marker: &str, comment: &Comment, room: usize) -> String {
    let cut_at = comment
        .body
        .char_indices()
        .nth(room)
        .map_or(comment.body.len(), |(index, _)| index);
    let kept = &comment.body[..cut_at];
    let kept = kept.rfind('\n').map_or("", |end| &kept[..end]);
    let mut text = format!("{marker}\n{kept}\n");
    let fences = kept
        .lines()
        .filter(|line| line.trim_start().starts_with("```"))
        .count();
    if fences % 2 == 1 {
        text.push_str("```\n");
    }
    let opened = kept.matches("<details").count();
    let closed = kept.matches("</details>").count();
    for _ in closed..opened {
        text.push_str("</details>\n");
    }
    text.push('\n');
    text.push_str(&comment.overflow_note);
    text
}

/// A status description cut to what GitHub takes.
pub(crate) fn status_description(description: &str) -> String {
    if description.chars().count() <= STATUS_DESCRIPTION_LIMIT {
        return description.to_owned();
    }
    let mut cut: String = description
        .chars()
        .take(STATUS_DESCRIPTION_LIMIT - 1)
        .collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn comment(body: &str) -> Comment {
        Comment {
            marker: "config-diff/production".into(),
            body: body.into(),
            overflow_note: "Truncated: see the full report.".into(),
        }
    }

    #[test]
    fn a_marker_cannot_close_its_html_comment() {
        assert_eq!(
            marker_line("config-diff/prod"),
            "<!-- kayobe-automation:config-diff/prod -->"
        );
        assert_eq!(
            marker_line("a --> <b> c"),
            "<!-- kayobe-automation:a_-____b__c -->"
        );
        let line = marker_line("x---->y");
        let inner = &line["<!-- ".len()..line.len() - " -->".len()];
        assert!(!inner.contains("--"), "{inner}");
    }

    #[test]
    fn a_body_that_fits_is_sent_whole() {
        let text = comment_text("<!-- m -->", &comment("line 1\nline 2"), 1000);
        assert_eq!(text, "<!-- m -->\nline 1\nline 2");
    }

    #[test]
    fn a_long_body_is_cut_at_a_line_and_its_blocks_closed() {
        let mut body = String::from("## Summary\n<details><summary>hosts</summary>\n\n```diff\n");
        for n in 0..500 {
            body.push_str(&format!("+variable_{n}: value\n"));
        }
        body.push_str("```\n</details>\n");
        let text = comment_text("<!-- m -->", &comment(&body), 2000);
        assert!(text.chars().count() <= 2000, "{}", text.len());
        assert!(text.ends_with("Truncated: see the full report."));
        assert!(text.contains("+variable_0: value\n"));
        let fences = text.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(fences % 2, 0, "{text}");
        assert_eq!(
            text.matches("<details").count(),
            text.matches("</details>").count()
        );
        // Every kept variable line is whole.
        for line in text.lines().filter(|l| l.starts_with('+')) {
            assert!(line.ends_with(": value"), "{line}");
        }
    }

    #[test]
    fn long_descriptions_are_cut() {
        assert_eq!(status_description("12 changes"), "12 changes");
        let long = "é".repeat(300);
        let cut = status_description(&long);
        assert_eq!(cut.chars().count(), STATUS_DESCRIPTION_LIMIT);
        assert!(cut.ends_with('…'));
    }

    proptest! {
        #[test]
        fn any_body_fits_the_limit(body in "(\\PC{0,40}\n){0,200}", limit in 300usize..3000) {
            let comment = comment(&body);
            let marker = marker_line(&comment.marker);
            let text = comment_text(&marker, &comment, limit);
            prop_assert!(text.chars().count() <= limit);
            prop_assert!(text.starts_with(&marker));
        }
    }
}
