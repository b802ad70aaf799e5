//! Safe statistics for FOI answers: counts of claims by one or two dimensions, with small
//! counts suppressed ("<5") and secondary suppression ("*") so that no suppressed count
//! can be worked out from the published cells and totals.
//!
//! Secondary suppression is decided by an exact check, not a rule of thumb: the published
//! table (cells, row and column totals, grand total) is a set of linear equations over the
//! suppressed cells, each known to lie in a range (1..threshold-1 for "<5", threshold or
//! more for "*"). `recoverable` searches for any other assignment that fits every
//! equation; while some small count has only its true value, one more cell in its row or
//! column is suppressed (the smallest visible one, to lose the least information).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// What claims can be counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dim {
    Specialty,
    Cause,
    Injury,
    Scheme,
    Year,
}

impl Dim {
    pub fn parse(s: &str) -> Option<Dim> {
        Some(match s {
            "specialty" => Dim::Specialty,
            "cause" => Dim::Cause,
            "injury" => Dim::Injury,
            "scheme" => Dim::Scheme,
            "year" => Dim::Year,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Specialty => "specialty",
            Dim::Cause => "cause",
            Dim::Injury => "injury",
            Dim::Scheme => "scheme",
            Dim::Year => "year",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Dim::Specialty => "Specialty",
            Dim::Cause => "Cause",
            Dim::Injury => "Injury",
            Dim::Scheme => "Scheme",
            Dim::Year => "Year",
        }
    }
}

/// A table of counts: rows by the first dimension, columns by the second (or one
/// column, "Claims").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub row_dim: Dim,
    pub col_dim: Option<Dim>,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub cells: Vec<Vec<u64>>,
}

const NOT_RECORDED: &str = "Not recorded";

/// Counts claim case items between `from` and `to` (years, inclusive).
pub fn count(
    cases: &[serde_json::Map<String, Value>],
    dims: &[Dim],
    from: i32,
    to: i32,
) -> Result<Counts, String> {
    let (row_dim, col_dim) = match dims {
        [r] => (*r, None),
        [r, c] if r != c => (*r, Some(*c)),
        [_, _] => return Err("count by two different dimensions".into()),
        _ => return Err("count by one or two dimensions (--by specialty [--by year])".into()),
    };
    let value = |case: &serde_json::Map<String, Value>, d: Dim| -> String {
        case.get(d.as_str())
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(NOT_RECORDED)
            .to_string()
    };
    let mut map: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut rows = std::collections::BTreeSet::new();
    let mut cols = std::collections::BTreeSet::new();
    if let Some(Dim::Year) = col_dim {
        cols.extend((from..=to).map(|y| y.to_string()));
    }
    if row_dim == Dim::Year {
        rows.extend((from..=to).map(|y| y.to_string()));
    }
    for case in cases {
        if case.get("kind").and_then(Value::as_str) != Some("claim") {
            continue;
        }
        let year: i32 = value(case, Dim::Year).parse().unwrap_or(0);
        if year < from || year > to {
            continue;
        }
        let r = value(case, row_dim);
        let c = col_dim
            .map(|d| value(case, d))
            .unwrap_or_else(|| "Claims".into());
        rows.insert(r.clone());
        cols.insert(c.clone());
        *map.entry((r, c)).or_default() += 1;
    }
    if col_dim.is_none() {
        cols.insert("Claims".into());
    }
    let rows: Vec<String> = rows.into_iter().collect();
    let cols: Vec<String> = cols.into_iter().collect();
    let cells = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| map.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    Ok(Counts {
        row_dim,
        col_dim,
        rows,
        cols,
        cells,
    })
}

/// A published cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Shown {
    Value(u64),
    /// Primary suppression: between 1 and threshold - 1.
    Small,
    /// Secondary suppression: threshold or more, hidden so that small counts stay hidden.
    Hidden,
}

impl Shown {
    pub fn text(self, threshold: u64) -> String {
        match self {
            Shown::Value(n) => n.to_string(),
            Shown::Small => format!("<{threshold}"),
            Shown::Hidden => "*".into(),
        }
    }
}

/// The table as published: cells, row totals (last column), column totals (last row) and
/// the grand total, each shown or suppressed.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub counts: Counts,
    pub threshold: u64,
    /// (rows + 1) × (cols + 1): the last column is the row totals, the last row the
    /// column totals, the corner the grand total.
    pub shown: Vec<Vec<Shown>>,
}

/// The full grid with totals.
fn grid(c: &Counts) -> Vec<Vec<u64>> {
    let mut g: Vec<Vec<u64>> = c
        .cells
        .iter()
        .map(|row| {
            let mut r = row.clone();
            r.push(row.iter().sum());
            r
        })
        .collect();
    let width = c.cols.len() + 1;
    let totals: Vec<u64> = (0..width).map(|j| g.iter().map(|r| r[j]).sum()).collect();
    g.push(totals);
    g
}

/// The cells of a line and the cell of its total.
type Equation = (Vec<(usize, usize)>, (usize, usize));

/// The equations of a published grid: every row sums to its total (when row totals are
/// published) and every column to its total (when column totals are).
fn equations(rows: usize, cols: usize, row_totals: bool, col_totals: bool) -> Vec<Equation> {
    let mut eqs = Vec::new();
    if row_totals {
        let last = if col_totals { rows } else { rows - 1 };
        for i in 0..=last {
            eqs.push(((0..cols).map(|j| (i, j)).collect(), (i, cols)));
        }
    }
    if col_totals {
        let last = if row_totals { cols } else { cols - 1 };
        for j in 0..=last {
            eqs.push(((0..rows).map(|i| (i, j)).collect(), (rows, j)));
        }
    }
    eqs
}

/// Whether any suppressed small count can be worked out exactly: returns the first such
/// cell (row, col in the grid with totals), or `None` when every one has at least two
/// values consistent with what is published.
pub fn recoverable(
    grid: &[Vec<u64>],
    shown: &[Vec<Shown>],
    threshold: u64,
) -> Option<(usize, usize)> {
    let rows = grid.len() - 1;
    let cols = grid[0].len() - 1;
    let (row_totals, col_totals) = totals_published(rows, cols);
    let grand = grid[rows][cols];
    // Variables: suppressed cells.
    let mut vars: Vec<(usize, usize)> = Vec::new();
    let mut index = vec![vec![usize::MAX; cols + 1]; rows + 1];
    let mut domains: Vec<(u64, u64)> = Vec::new();
    for (i, row) in shown.iter().enumerate() {
        for (j, s) in row.iter().enumerate() {
            let dom = match s {
                Shown::Value(_) => continue,
                Shown::Small => (1, threshold - 1),
                Shown::Hidden => (threshold, grand.max(threshold)),
            };
            index[i][j] = vars.len();
            vars.push((i, j));
            domains.push(dom);
        }
    }
    // Each equation: the variables in it (with sign: the total on the other side) and
    // the constant from the visible cells.
    let mut cons: Vec<(Vec<(usize, i64)>, i64)> = Vec::new();
    for (cells, total) in equations(rows, cols, row_totals, col_totals) {
        let mut terms = Vec::new();
        let mut constant: i64 = 0; // sum(vars) - total_var = constant
        for (i, j) in cells {
            match shown[i][j] {
                Shown::Value(v) => constant -= v as i64,
                _ => terms.push((index[i][j], 1)),
            }
        }
        match shown[total.0][total.1] {
            Shown::Value(v) => constant += v as i64,
            _ => terms.push((index[total.0][total.1], -1)),
        }
        if !terms.is_empty() {
            cons.push((terms, constant));
        }
    }
    for (k, &(i, j)) in vars.iter().enumerate() {
        if shown[i][j] != Shown::Small || !published(i, j, rows, cols) {
            continue;
        }
        let truth = grid[i][j];
        let mut below = domains.clone();
        let mut above = domains.clone();
        let alternative = (truth > below[k].0 && {
            below[k].1 = truth - 1;
            feasible(&mut below, &cons)
        }) || (truth < above[k].1 && {
            above[k].0 = truth + 1;
            feasible(&mut above, &cons)
        });
        if !alternative {
            return Some((i, j));
        }
    }
    None
}

/// Row totals are published when there is more than one column (a one-column table's
/// row total would repeat its cell), and column totals when there is more than one row.
pub fn totals_published(rows: usize, cols: usize) -> (bool, bool) {
    (cols > 1, rows > 1)
}

/// Whether a cell of the grid (with its totals row and column) is published at all.
fn published(i: usize, j: usize, rows: usize, cols: usize) -> bool {
    let (row_totals, col_totals) = totals_published(rows, cols);
    match (i < rows, j < cols) {
        (true, true) => true,
        (true, false) => row_totals,
        (false, true) => col_totals,
        (false, false) => row_totals && col_totals,
    }
}

/// Bounds propagation over `sum(sign * x) = constant`, then branching.
/// Exact: the search halves a domain at each level, so its depth is bounded by the sum
/// of the domains' bit lengths.
fn feasible(domains: &mut [(u64, u64)], cons: &[(Vec<(usize, i64)>, i64)]) -> bool {
    loop {
        let mut changed = false;
        for (terms, constant) in cons {
            // min and max of sum(sign*x)
            let (mut lo, mut hi) = (0i64, 0i64);
            for &(v, sign) in terms {
                let (a, b) = (domains[v].0 as i64, domains[v].1 as i64);
                if sign > 0 {
                    lo += a;
                    hi += b;
                } else {
                    lo -= b;
                    hi -= a;
                }
            }
            if *constant < lo || *constant > hi {
                return false;
            }
            for &(v, sign) in terms {
                let (a, b) = (domains[v].0 as i64, domains[v].1 as i64);
                let (rest_lo, rest_hi) = if sign > 0 {
                    (lo - a, hi - b)
                } else {
                    (lo + b, hi + a)
                };
                // sign*x = constant - rest, rest in [rest_lo, rest_hi]
                let (x_lo, x_hi) = if sign > 0 {
                    (constant - rest_hi, constant - rest_lo)
                } else {
                    (rest_lo - constant, rest_hi - constant)
                };
                let new_lo = a.max(x_lo);
                let new_hi = b.min(x_hi);
                if new_lo > new_hi {
                    return false;
                }
                if new_lo != a || new_hi != b {
                    domains[v] = (new_lo as u64, new_hi as u64);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Branch on the smallest open domain.
    let open = domains
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| a < b)
        .min_by_key(|(_, (a, b))| b - a)
        .map(|(i, _)| i);
    let Some(v) = open else {
        return true; // all fixed and every constraint held in propagation
    };
    let (a, b) = domains[v];
    let mid = a + (b - a) / 2;
    let mut left = domains.to_vec();
    left[v] = (a, mid);
    if feasible(&mut left, cons) {
        return true;
    }
    let mut right = domains.to_vec();
    right[v] = (mid + 1, b);
    feasible(&mut right, cons)
}

/// Suppresses small counts and whatever else it takes to keep them hidden.
pub fn suppress(counts: Counts, threshold: u64) -> Published {
    let threshold = threshold.max(2);
    let g = grid(&counts);
    let mut shown: Vec<Vec<Shown>> = g
        .iter()
        .map(|row| {
            row.iter()
                .map(|&v| {
                    if v > 0 && v < threshold {
                        Shown::Small
                    } else {
                        Shown::Value(v)
                    }
                })
                .collect()
        })
        .collect();
    let rows = g.len() - 1;
    let cols = g[0].len() - 1;
    // Cells that are not published at all are neither shown nor variables.
    for (i, row) in shown.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            if !published(i, j, rows, cols) {
                *cell = Shown::Value(g[i][j]);
            }
        }
    }
    let visible = |shown: &[Vec<Shown>], i: usize, j: usize| {
        matches!(shown[i][j], Shown::Value(v) if v > 0) && published(i, j, rows, cols)
    };
    while let Some((i, j)) = recoverable(&g, &shown, threshold) {
        // Inside a two-way table, hide the cheapest rectangle through the cell: another
        // row and column whose three other corners are suppressed or can be (no zeros).
        let mut best: Option<(u64, Vec<(usize, usize)>)> = None;
        if i < rows && j < cols && rows >= 2 && cols >= 2 {
            for i2 in (0..rows).filter(|&r| r != i) {
                for j2 in (0..cols).filter(|&c| c != j) {
                    let corners = [(i, j2), (i2, j), (i2, j2)];
                    if corners.iter().any(|&(a, b)| shown[a][b] == Shown::Value(0)) {
                        continue;
                    }
                    let new: Vec<(usize, usize)> = corners
                        .into_iter()
                        .filter(|&(a, b)| visible(&shown, a, b))
                        .collect();
                    if new.is_empty() {
                        continue;
                    }
                    let cost: u64 = new.iter().map(|&(a, b)| g[a][b]).sum();
                    if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                        best = Some((cost, new));
                    }
                }
            }
        }
        if best.is_none() {
            // Otherwise the smallest visible cell in its row or column (interior first).
            let mut candidates: Vec<(bool, u64, usize, usize)> = Vec::new();
            #[allow(clippy::needless_range_loop)]
            for jj in 0..=cols {
                if visible(&shown, i, jj) {
                    candidates.push((jj == cols || i == rows, g[i][jj], i, jj));
                }
            }
            #[allow(clippy::needless_range_loop)]
            for ii in 0..=rows {
                if visible(&shown, ii, j) {
                    candidates.push((ii == rows || j == cols, g[ii][j], ii, j));
                }
            }
            candidates.sort();
            best = candidates.first().map(|&(_, v, a, b)| (v, vec![(a, b)]));
        }
        match best {
            Some((_, cells)) => {
                for (a, b) in cells {
                    shown[a][b] = Shown::Hidden;
                }
            }
            None => {
                // Nothing left to hide around it: hide every count.
                for (a, row) in shown.iter_mut().enumerate() {
                    for (b, s) in row.iter_mut().enumerate() {
                        if matches!(s, Shown::Value(v) if *v > 0) && published(a, b, rows, cols) {
                            *s = Shown::Hidden;
                        }
                    }
                }
                break;
            }
        }
    }
    Published {
        counts,
        threshold,
        shown,
    }
}

impl Published {
    fn header(&self) -> Vec<String> {
        let (row_totals, _) = totals_published(self.counts.rows.len(), self.counts.cols.len());
        let mut h = vec![self.counts.row_dim.label().to_string()];
        h.extend(self.counts.cols.iter().cloned());
        if row_totals {
            h.push("Total".into());
        }
        h
    }

    /// Rows of text cells, the header first, totals last.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        let rows = self.counts.rows.len();
        let cols = self.counts.cols.len();
        let (row_totals, col_totals) = totals_published(rows, cols);
        let mut out = vec![self.header()];
        for (i, row) in self.shown.iter().enumerate() {
            if i == rows && !col_totals {
                continue;
            }
            let label = self
                .counts
                .rows
                .get(i)
                .cloned()
                .unwrap_or_else(|| "Total".into());
            let mut r = vec![label];
            r.extend(
                row.iter()
                    .enumerate()
                    .filter(|(j, _)| *j < cols || row_totals)
                    .map(|(_, s)| s.text(self.threshold)),
            );
            out.push(r);
        }
        out
    }

    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in self.text_rows() {
            let _ = w.write_record(&row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The table as a letter's `table` field.
    pub fn to_letter_table(&self) -> Value {
        let rows = self.text_rows();
        serde_json::json!({ "columns": rows[0], "rows": rows[1..] })
    }

    /// A plain table for the terminal.
    pub fn to_text(&self) -> String {
        let rows = self.text_rows();
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (n, r) in rows.iter().enumerate() {
            let line: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    if c == 0 {
                        format!("{s:<w$}", w = widths[c])
                    } else {
                        format!("{s:>w$}", w = widths[c])
                    }
                })
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
            if n == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
                out.push('\n');
            }
        }
        out
    }
}
