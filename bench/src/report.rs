//! The final summary: one line per figure, grouped by what was measured.

pub struct Report {
    rows: Vec<(String, String, String)>,
}

impl Report {
    pub fn new() -> Self {
        Report { rows: Vec::new() }
    }

    pub fn add(&mut self, section: &str, what: impl Into<String>, figure: impl Into<String>) {
        self.rows.push((section.to_owned(), what.into(), figure.into()));
    }

    pub fn print(&self) {
        let widths = self
            .rows
            .iter()
            .fold((7, 4), |(a, b), (s, w, _)| (a.max(s.chars().count()), b.max(w.chars().count())));
        println!("\n== Summary ==");
        println!("{:<a$}  {:<b$}  figure", "section", "what", a = widths.0, b = widths.1);
        println!("{}  {}  {}", "-".repeat(widths.0), "-".repeat(widths.1), "-".repeat(40));
        let mut last = "";
        for (section, what, figure) in &self.rows {
            let shown = if section == last { "" } else { section.as_str() };
            println!("{shown:<a$}  {what:<b$}  {figure}", a = widths.0, b = widths.1);
            last = section;
        }
    }
}

/// A section heading with what it measures and on what.
pub fn heading(title: &str, what: &str) {
    println!("\n== {title} ==");
    for line in what.lines() {
        println!("   {line}");
    }
}
