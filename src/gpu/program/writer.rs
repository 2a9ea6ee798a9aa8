//! A small WGSL writer for generated kernels: one line at a time, indented by the braces it has
//! seen, so a generator reads as the WGSL it writes instead of string pieces with escapes.

use std::fmt::Write;

/// Lines of WGSL with indentation that follows `{` and `}`.
#[derive(Debug, Default)]
pub struct WgslWriter {
    out: String,
    depth: usize,
}

impl WgslWriter {
    /// An empty writer at depth 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes one line. A line starting with `}` closes a level before it is written; a line
    /// ending with `{` opens one after it (`} else {` does both).
    pub fn line(&mut self, text: impl AsRef<str>) -> &mut Self {
        let text = text.as_ref().trim();
        if text.starts_with('}') {
            self.depth = self.depth.saturating_sub(1);
        }
        if text.is_empty() {
            self.out.push('\n');
        } else {
            let _ = writeln!(self.out, "{:indent$}{text}", "", indent = 4 * self.depth);
        }
        if text.ends_with('{') {
            self.depth += 1;
        }
        self
    }

    /// Writes each line of a block of WGSL (its own indentation is replaced by the writer's).
    pub fn lines(&mut self, block: &str) -> &mut Self {
        for l in block.lines() {
            self.line(l);
        }
        self
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_by_braces() {
        let mut w = WgslWriter::new();
        w.line("fn f() {")
            .line("if (a) {")
            .line("b();")
            .line("} else {")
            .line("c();")
            .line("}");
        w.line("if (x) { y(); }").line("}");
        assert_eq!(
            w.finish(),
            "fn f() {\n    if (a) {\n        b();\n    } else {\n        c();\n    }\n    if (x) { y(); }\n}\n"
        );
    }
}
