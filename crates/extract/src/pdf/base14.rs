//! The standard 14 fonts: which one a font name means, its built-in encoding, and its
//! glyph widths (for PDFs that name a standard font without giving widths).

use pdf_encoding::Encoding as BaseEncoding;

#[path = "base14_data.rs"]
mod data;

/// Metrics of one standard font.
#[derive(Debug)]
pub struct Metrics {
    /// The font's own encoding (Symbol, ZapfDingbats); `None` for the text fonts.
    pub builtin: Option<BaseEncoding>,
    pub default_width: f64,
    table: &'static [(char, u16)],
}

impl Metrics {
    /// The width of the first character of `text`, in glyph units (1/1000 em).
    pub fn width_of(&self, text: &str) -> Option<f64> {
        let c = text.chars().next()?;
        self.table
            .binary_search_by_key(&c, |(ch, _)| *ch)
            .ok()
            .map(|i| f64::from(self.table[i].1))
    }
}

static COURIER: Metrics = Metrics {
    builtin: None,
    default_width: 600.0,
    table: &[],
};
static HELVETICA: Metrics = Metrics {
    builtin: None,
    default_width: 556.0,
    table: data::HELVETICA,
};
static HELVETICA_BOLD: Metrics = Metrics {
    builtin: None,
    default_width: 556.0,
    table: data::HELVETICA_BOLD,
};
static TIMES_ROMAN: Metrics = Metrics {
    builtin: None,
    default_width: 500.0,
    table: data::TIMES_ROMAN,
};
static TIMES_BOLD: Metrics = Metrics {
    builtin: None,
    default_width: 500.0,
    table: data::TIMES_BOLD,
};
static TIMES_ITALIC: Metrics = Metrics {
    builtin: None,
    default_width: 500.0,
    table: data::TIMES_ITALIC,
};
static TIMES_BOLD_ITALIC: Metrics = Metrics {
    builtin: None,
    default_width: 500.0,
    table: data::TIMES_BOLD_ITALIC,
};
static SYMBOL: Metrics = Metrics {
    builtin: Some(BaseEncoding::AdobeSymbol),
    default_width: 500.0,
    table: data::SYMBOL,
};
static ZAPF_DINGBATS: Metrics = Metrics {
    builtin: Some(BaseEncoding::AdobeZdingbat),
    default_width: 800.0,
    table: data::ZAPF_DINGBATS,
};

/// The standard font a base font name stands for, including the usual aliases
/// (Arial for Helvetica, Times New Roman for Times, Courier New for Courier).
pub fn metrics_for(base_font: &str) -> Option<&'static Metrics> {
    let name: String = base_font
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let bold = name.contains("bold") || name.contains("black") || name.contains("heavy");
    let italic = name.contains("italic") || name.contains("oblique");
    if name.starts_with("symbol") {
        return Some(&SYMBOL);
    }
    if name.starts_with("zapfdingbats") || name.starts_with("dingbats") {
        return Some(&ZAPF_DINGBATS);
    }
    if name.starts_with("courier") {
        return Some(&COURIER);
    }
    if name.starts_with("helvetica") || name.starts_with("arial") {
        return Some(if bold { &HELVETICA_BOLD } else { &HELVETICA });
    }
    if name.starts_with("times") {
        return Some(match (bold, italic) {
            (false, false) => &TIMES_ROMAN,
            (true, false) => &TIMES_BOLD,
            (false, true) => &TIMES_ITALIC,
            (true, true) => &TIMES_BOLD_ITALIC,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_widths_are_adobes() {
        let helvetica = metrics_for("Helvetica").unwrap();
        assert_eq!(helvetica.width_of("A"), Some(667.0));
        assert_eq!(helvetica.width_of(" "), Some(278.0));
        assert_eq!(
            metrics_for("Arial,Bold").unwrap().width_of("A"),
            Some(722.0)
        );
        assert_eq!(
            metrics_for("Times-Roman").unwrap().width_of("a"),
            Some(444.0)
        );
        assert_eq!(metrics_for("CourierNewPSMT").unwrap().default_width, 600.0);
        assert!(metrics_for("Calibri").is_none());
    }
}
