//! Letter rendering speed: the two-page FOI response example, rendered again and again
//! in one process (template, validation, layout, subset fonts, tagged PDF), with the time
//! of each stage. `scripts/bench-letters` runs this beside Typst, WeasyPrint and
//! LibreOffice on the same letter and prints the ratios.
//!
//! `cargo bench --bench letters [-- SECONDS]` prints one `letters_per_second_per_core`
//! line (and a JSON line for scripts).

use std::hint::black_box;
use std::time::{Duration, Instant};

use postroom::letters::{Format, Registry, layout, markup, pdf};

fn time<F: FnMut()>(budget: Duration, mut f: F) -> (u64, Duration) {
    // Warm up (fonts parsed, caches filled), then run for the budget.
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget {
        for _ in 0..50 {
            f();
        }
        n += 50;
    }
    (n, start.elapsed())
}

fn main() {
    let secs: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(secs);
    let reg = Registry::embedded();
    let name = "foi-response";
    let data = reg.get(name).expect("template").example.clone();
    let one = reg.render(name, &data, Format::Pdf).expect("renders");
    println!(
        "letter: {name}, {} pages, {} bytes",
        one.pages,
        one.bytes.len()
    );

    let (n, total) = time(budget, || {
        black_box(
            reg.render(name, black_box(&data), Format::Pdf)
                .expect("renders"),
        );
    });
    let per = total.as_secs_f64() / n as f64;

    // Stages, each on its own.
    let values = reg.validate(name, &data).expect("valid");
    let markup_text = reg.markup(name, &values).expect("markup");
    let blocks = markup::parse(&markup_text).expect("parse");
    let laid = layout::layout(&blocks, layout::Options::default());
    let info = pdf::DocInfo {
        title: "bench",
        language: "en-GB",
        creator: "bench",
        id_seed: b"bench",
    };
    let stage = |f: &mut dyn FnMut()| {
        let (n, t) = time(budget / 4, f);
        t.as_secs_f64() / n as f64 * 1e6
    };
    let validate_us = stage(&mut || {
        black_box(reg.validate(name, &data).expect("valid"));
    });
    let template_us = stage(&mut || {
        black_box(reg.markup(name, &values).expect("markup"));
    });
    let parse_us = stage(&mut || {
        black_box(markup::parse(&markup_text).expect("parse"));
    });
    let layout_us = stage(&mut || {
        black_box(layout::layout(&blocks, layout::Options::default()));
    });
    let write_us = stage(&mut || {
        black_box(pdf::write(&laid, &info).expect("writes"));
    });
    println!(
        "stages (µs): validate {validate_us:.0}, template {template_us:.0}, markdown {parse_us:.0}, layout {layout_us:.0}, pdf+fonts {write_us:.0}"
    );
    println!(
        "postroom: {n} letters in {:.2} s: {:.3} ms/letter, letters_per_second_per_core {:.0}",
        total.as_secs_f64(),
        per * 1e3,
        1.0 / per
    );
    println!(
        "{{\"tool\":\"postroom\",\"ms_per_letter\":{:.4},\"bytes\":{},\"pages\":{}}}",
        per * 1e3,
        one.bytes.len(),
        one.pages
    );
}
