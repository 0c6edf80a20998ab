//! Untrusted text in Markdown that a platform renders (a pull request
//! comment, a job summary): it goes only inside code, delimited by more
//! backticks than any run it holds, so it cannot close the code, open HTML
//! or add a link; links are made only of plain web addresses.

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A code fence for `body`: backticks, one more than its longest run and at
/// least three, so nothing in it ends the fence.
pub fn fence_for(body: &str) -> String {
    "`".repeat((longest_backtick_run(body) + 1).max(3))
}

/// `body` fenced as a code block in `language`, ending with a newline.
pub fn code_block(language: &str, body: &str) -> String {
    let fence = fence_for(body);
    format!(
        "{fence}{language}\n{}\n{fence}\n",
        body.trim_end_matches('\n')
    )
}

/// `text` as an inline code span that nothing in it can end: delimited by
/// one backtick more than its longest run, line breaks made spaces.
pub fn code_span(text: &str) -> String {
    let ticks = "`".repeat(longest_backtick_run(text) + 1);
    format!("{ticks} {} {ticks}", text.replace(['\n', '\r'], " "))
}

/// Whether `url` can go into a Markdown link as it is: `http(s)`, and none
/// of the characters that end a link or open markup.
pub fn is_plain_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]\"'`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_outlasts_the_backticks_inside() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("`````"), "``````");
        assert_eq!(code_block("diff", "+a\n"), "```diff\n+a\n```\n");
        assert_eq!(code_span("prod"), "` prod `");
        assert_eq!(code_span("a`b"), "`` a`b ``");
        assert_eq!(code_span("a\nb"), "` a b `");
    }

    #[test]
    fn only_plain_web_links_are_linked() {
        assert!(is_plain_url("https://ci.example.com/job/1/artifacts"));
        assert!(!is_plain_url("javascript:alert(1)"));
        assert!(!is_plain_url("https://x.example/a) [y](z"));
    }
}
