//! A self-contained HTML report: inline style and script, no network assets;
//! failures (with their tracebacks) first, a filter per outcome and a search
//! box. Every piece of text from the stream is escaped.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

use kayobe_stdx::{OutputFile, push_html, push_html_head};

use super::summary::Summary;
use crate::results::{Outcome, TestResult};
use crate::subunit::SubunitError;

/// Outcomes in the order the filter lists them.
const OUTCOMES: [Outcome; 6] = [
    Outcome::Failure,
    Outcome::UnexpectedSuccess,
    Outcome::Incomplete,
    Outcome::Skip,
    Outcome::ExpectedFailure,
    Outcome::Success,
];

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}
.counts span{margin-right:1em}
.controls{margin:1em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
#search{min-width:24em;padding:.3em}
.error{background:#fde2e1;border:1px solid #d33;padding:.5em}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
td.t{text-align:right;white-space:nowrap}
td.id{font-family:monospace;word-break:break-all}
pre{margin:.3em 0;white-space:pre-wrap;font-size:.85em;background:#f6f6f6;padding:.5em}
.o{font-weight:bold;white-space:nowrap}
.fail,.uxsuccess,.incomplete{color:#b00}
.skip,.xfail{color:#a60}
.success{color:#070}
"#;

const SCRIPT: &str = r#"
(function(){
  var search=document.getElementById('search');
  var boxes=document.querySelectorAll('input[data-outcome]');
  var rows=document.querySelectorAll('#results tbody');
  function apply(){
    var q=search.value.toLowerCase();
    var on={};
    boxes.forEach(function(b){on[b.dataset.outcome]=b.checked;});
    var shown=0;
    rows.forEach(function(r){
      var v=on[r.dataset.outcome]&&(q===''||r.dataset.id.toLowerCase().indexOf(q)>=0);
      r.hidden=!v; if(v){shown++;}
    });
    document.getElementById('shown').textContent=shown+' shown';
  }
  // A link may preset the search: report.html#q=TEXT.
  var hash=decodeURIComponent(location.hash.slice(1));
  if(hash.indexOf('q=')===0){search.value=hash.slice(2);}
  search.addEventListener('input',apply);
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  apply();
})();
"#;

pub(crate) struct HtmlWriter {
    out: OutputFile,
    failures: BufWriter<std::fs::File>,
    others: BufWriter<std::fs::File>,
    row: String,
}

impl HtmlWriter {
    pub(crate) fn new(out: OutputFile) -> std::io::Result<Self> {
        Ok(HtmlWriter {
            out,
            failures: BufWriter::with_capacity(64 * 1024, tempfile::tempfile()?),
            others: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
            row: String::new(),
        })
    }

    pub(crate) fn add(&mut self, result: &TestResult) -> std::io::Result<()> {
        let out = &mut self.row;
        out.clear();
        let outcome = result.outcome.name();
        let _ = write!(out, "<tbody data-outcome=\"{outcome}\" data-id=\"");
        push_html(out, &result.id);
        let _ = write!(
            out,
            "\"><tr><td class=\"o {outcome}\">{outcome}</td><td class=\"id\">"
        );
        push_html(out, &result.id);
        out.push_str("</td><td class=\"t\">");
        if let Some(duration) = result.duration() {
            let _ = write!(out, "{:.3}s", duration.as_secs_f64());
        }
        out.push_str("</td></tr>");
        if result.outcome != Outcome::Success && result.outcome != Outcome::ExpectedFailure {
            let details = result.details();
            if !details.is_empty() {
                out.push_str("<tr><td></td><td colspan=\"2\"><pre>");
                push_html(out, &details);
                out.push_str("</pre></td></tr>");
            }
        }
        out.push_str("</tbody>\n");
        if result.outcome.is_failure() {
            self.failures.write_all(out.as_bytes())
        } else {
            self.others.write_all(out.as_bytes())
        }
    }

    pub(crate) fn finish(
        self,
        summary: &Summary,
        stream_error: Option<&SubunitError>,
    ) -> std::io::Result<()> {
        let mut head = String::new();
        push_html_head(&mut head, "Tempest results", STYLE);
        head.push_str("<h1>Tempest results: ");
        head.push_str(if summary.is_success() {
            "passed"
        } else {
            "FAILED"
        });
        head.push_str("</h1>\n<p class=\"counts\">");
        push_html(&mut head, &summary.totals_line());
        let _ = writeln!(
            head,
            " (test time {:.3}s)</p>",
            summary.total_time.as_secs_f64()
        );
        if let Some(error) = stream_error {
            head.push_str("<p class=\"error\">The stream could not be read to its end; these results are those read before: ");
            push_html(&mut head, &error.to_string());
            head.push_str("</p>\n");
        }
        head.push_str("<div class=\"controls\"><input id=\"search\" type=\"search\" placeholder=\"Search test ids\" aria-label=\"Search test ids\">");
        for outcome in OUTCOMES {
            let name = outcome.name();
            let _ = write!(
                head,
                "<label><input type=\"checkbox\" data-outcome=\"{name}\" checked> <span class=\"{name}\">{name}</span> ({})</label>",
                summary.counts.of(outcome)
            );
        }
        head.push_str("<span id=\"shown\"></span></div>\n<table id=\"results\"><thead><tr><th>Outcome</th><th>Test</th><th>Time</th></tr></thead>\n");
        let mut foot = String::from("</table>\n<script>");
        foot.push_str(SCRIPT);
        foot.push_str("</script>\n</body></html>\n");
        let failures = self.failures.into_inner().map_err(|e| e.into_error())?;
        let others = self.others.into_inner().map_err(|e| e.into_error())?;
        super::join_spools(
            self.out,
            head.as_bytes(),
            vec![failures, others],
            foot.as_bytes(),
        )
    }
}
