//! The Tesseract adapter: the system's Tesseract 5 (Debian's `libtesseract5` and its
//! `eng` data) through the `tesseract` crate. Single-block segmentation by default (the
//! automatic mode drops whole paragraphs of noisy letters: ARCHITECTURE.md, "OCR"), the
//! page turned upright first, and each page run on its own thread so the time budget
//! holds even when Tesseract does not stop (a timed-out run finishes in the background
//! and its engine is then reused). Set `OMP_THREAD_LIMIT=1` in the environment: Debian's
//! build uses OpenMP, and more threads cost more than they give on one or two cores.

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tesseract::Tesseract;

use crate::orientation::{Rotation, STRAIGHTEN_FROM_DEGREES, lines_run_across, skew_degrees};
use crate::{BBox, Image, Limits, Line, Ocr, OcrSetupError, OcrWarning, PageText, Word};

const ENGINE: &str = "tesseract";

/// Below this mean confidence the page is tried the other way up (or the other way
/// round, when sideways) and the better reading is kept.
const ORIENTATION_RETRY: f32 = 0.75;

/// How Tesseract segments a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSegMode {
    /// One block of text (PSM 6): the default, measured best on letters.
    SingleBlock,
    /// One column of text of variable sizes (PSM 4).
    SingleColumn,
    /// Fully automatic (PSM 3, the command line's default).
    Auto,
}

impl PageSegMode {
    fn tess(self) -> tesseract::PageSegMode {
        match self {
            PageSegMode::SingleBlock => tesseract::PageSegMode::PsmSingleBlock,
            PageSegMode::SingleColumn => tesseract::PageSegMode::PsmSingleColumn,
            PageSegMode::Auto => tesseract::PageSegMode::PsmAuto,
        }
    }
}

/// Tesseract with English data. Holds a pool of started engines (starting one reads
/// the model: about 0.1 s), so keep one `TesseractOcr` per process.
pub struct TesseractOcr {
    pool: Arc<Mutex<Vec<Tesseract>>>,
    mode: PageSegMode,
}

impl std::fmt::Debug for TesseractOcr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TesseractOcr")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl TesseractOcr {
    /// Starts Tesseract in single-block mode; fails when the library's English data
    /// is missing (Debian: `tesseract-ocr-eng`).
    pub fn new() -> Result<Self, OcrSetupError> {
        Self::with_mode(PageSegMode::SingleBlock)
    }

    /// Starts Tesseract with the given segmentation mode.
    pub fn with_mode(mode: PageSegMode) -> Result<Self, OcrSetupError> {
        let engine = start(mode).map_err(|reason| OcrSetupError::Unavailable {
            engine: ENGINE,
            reason,
        })?;
        Ok(TesseractOcr {
            pool: Arc::new(Mutex::new(vec![engine])),
            mode,
        })
    }

    /// One reading of `image` turned by `rotation`; `Err` is the warning that ended it.
    fn pass(
        &self,
        image: &Arc<Image>,
        rotation: Rotation,
        remaining: Duration,
    ) -> Result<Reading, OcrWarning> {
        let pool = Arc::clone(&self.pool);
        let mode = self.mode;
        let image = Arc::clone(image);
        let tsv = within(remaining, move || {
            let turned = image.rotated(rotation);
            let engine = match pool.lock().ok().and_then(|mut p| p.pop()) {
                Some(engine) => Ok(engine),
                None => start(mode),
            };
            let (engine, tsv) = engine.and_then(|engine| run(engine, &turned)).ok()?;
            if let Ok(mut p) = pool.lock() {
                p.push(engine);
            }
            Some(tsv)
        })?;
        Ok(parse_tsv(&tsv))
    }
}

/// Runs `job` on its own thread and waits at most `remaining` for it: `Timeout` when the
/// time is spent (the job finishes in the background, its result dropped), `EngineFailed`
/// when it gives nothing or panics.
fn within<T: Send + 'static>(
    remaining: Duration,
    job: impl FnOnce() -> Option<T> + Send + 'static,
) -> Result<T, OcrWarning> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tesseract".into())
        .spawn(move || {
            let _ = tx.send(job());
        });
    if spawned.is_err() {
        return Err(OcrWarning::EngineFailed);
    }
    match rx.recv_timeout(remaining) {
        Ok(Some(value)) => Ok(value),
        Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => Err(OcrWarning::EngineFailed),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(OcrWarning::Timeout),
    }
}

fn start(mode: PageSegMode) -> Result<Tesseract, String> {
    let mut engine = Tesseract::new(None, Some("eng")).map_err(|e| e.to_string())?;
    engine.set_page_seg_mode(mode.tess());
    // Tesseract's progress notes ("Estimating resolution as ...") would go to stderr.
    engine
        .set_variable("debug_file", "/dev/null")
        .map_err(|e| e.to_string())
}

fn run(engine: Tesseract, image: &Image) -> Result<(Tesseract, String), String> {
    let width = i32::try_from(image.width()).map_err(|e| e.to_string())?;
    let height = i32::try_from(image.height()).map_err(|e| e.to_string())?;
    // Without a hint, assume the page is A4 or Letter wide (about 8.3 inches).
    let dpi = image
        .dpi()
        .unwrap_or_else(|| (image.width() * 10 / 83).clamp(70, 1200));
    let mut engine = engine
        .set_frame(image.as_bytes(), width, height, 1, width)
        .map_err(|e| e.to_string())?
        .set_source_resolution(i32::try_from(dpi).unwrap_or(300))
        .recognize()
        .map_err(|e| e.to_string())?;
    let tsv = engine.get_tsv_text(0).map_err(|e| e.to_string())?;
    Ok((engine, tsv))
}

/// Words and lines of one reading.
#[derive(Debug, Default)]
struct Reading {
    words: Vec<Word>,
    lines: Vec<Line>,
}

impl Reading {
    fn confidence(&self) -> f32 {
        let page = PageText {
            words: self.words.clone(),
            ..PageText::default()
        };
        page.mean_confidence()
    }
}

/// Reads Tesseract's TSV: level, page, block, paragraph, line, word, left, top, width,
/// height, confidence (0-100, -1 for anything but a word), text.
fn parse_tsv(tsv: &str) -> Reading {
    let mut reading = Reading::default();
    let mut current: Option<(u32, u32, u32)> = None;
    let mut paragraph_key: Option<(u32, u32)> = None;
    let mut paragraph = 0u32;
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<u32>().ok();
        let (Some(block), Some(par), Some(line)) = (num(2), num(3), num(4)) else {
            continue;
        };
        let (Some(left), Some(top), Some(width), Some(height)) = (num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        let Ok(conf) = cols[10].trim().parse::<f32>() else {
            continue;
        };
        let text = cols[11].trim();
        if conf < 0.0 || text.is_empty() {
            continue;
        }
        let bbox = BBox {
            left,
            top,
            width,
            height,
        };
        if current != Some((block, par, line)) {
            if paragraph_key.is_some() && paragraph_key != Some((block, par)) {
                paragraph += 1;
            }
            paragraph_key = Some((block, par));
            current = Some((block, par, line));
            let at = reading.words.len();
            reading.lines.push(Line {
                bbox,
                words: at..at,
                paragraph,
            });
        }
        let line_index = reading.lines.len() - 1;
        if let Some(line) = reading.lines.last_mut() {
            line.words.end += 1;
            line.bbox = union(line.bbox, bbox);
        }
        reading.words.push(Word {
            text: text.to_string(),
            bbox,
            confidence: (conf / 100.0).clamp(0.0, 1.0),
            line: line_index,
        });
    }
    reading
}

fn union(a: BBox, b: BBox) -> BBox {
    let left = a.left.min(b.left);
    let top = a.top.min(b.top);
    let right = (a.left + a.width).max(b.left + b.width);
    let bottom = (a.top + a.height).max(b.top + b.height);
    BBox {
        left,
        top,
        width: right - left,
        height: bottom - top,
    }
}

impl Ocr for TesseractOcr {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn recognise(&self, image: &Image, limits: &Limits) -> PageText {
        let started = Instant::now();
        let deadline = started + limits.page_time;
        let mut warnings = Vec::new();
        let mut best: Option<(Rotation, Reading, f32)> = None;
        // Despeckle at 150 dpi and up (below, strokes are too thin to spare a pixel), guess
        // the axis of the lines and straighten a crooked page; all within the time budget.
        let owned = image.clone();
        let prepared = within(limits.page_time, move || {
            let clean = if owned.dpi().is_none_or(|dpi| dpi >= 150) {
                owned.despeckled()
            } else {
                owned
            };
            let across = lines_run_across(&clean);
            // A page fed in crooked is straightened first; a slight lean is left alone.
            let lean = skew_degrees(&clean, across);
            let clean = if lean.abs() >= STRAIGHTEN_FROM_DEGREES {
                clean.turned_by(lean)
            } else {
                clean
            };
            Some((Arc::new(clean), across))
        });
        match prepared {
            Err(warning) => warnings.push(warning),
            Ok((clean, across)) => {
                // The guessed axis first, each way up; the other axis only if neither
                // reading is confident (a single line can fool the guess).
                let candidates = if across {
                    [
                        Rotation::None,
                        Rotation::Cw180,
                        Rotation::Cw90,
                        Rotation::Cw270,
                    ]
                } else {
                    [
                        Rotation::Cw90,
                        Rotation::Cw270,
                        Rotation::None,
                        Rotation::Cw180,
                    ]
                };
                for rotation in candidates {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        warnings.push(OcrWarning::Timeout);
                        break;
                    }
                    match self.pass(&clean, rotation, remaining) {
                        Ok(reading) => {
                            let confidence = reading.confidence();
                            if best.as_ref().is_none_or(|(_, _, c)| confidence > *c) {
                                best = Some((rotation, reading, confidence));
                            }
                            if confidence >= ORIENTATION_RETRY {
                                break;
                            }
                        }
                        Err(warning) => {
                            warnings.push(warning);
                            break;
                        }
                    }
                }
            }
        }
        // A page read one way and timed out the other keeps its reading and the warning.
        let (rotation, reading) = match best {
            Some((rotation, reading, _)) => (rotation, reading),
            None => (Rotation::None, Reading::default()),
        };
        let (width, height) = match rotation {
            Rotation::Cw90 | Rotation::Cw270 => (image.height(), image.width()),
            _ => (image.width(), image.height()),
        };
        PageText {
            engine: ENGINE,
            rotation,
            width,
            height,
            words: reading.words,
            lines: reading.lines,
            warnings,
            elapsed: started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_words_lines_and_paragraphs() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
            5\t1\t1\t1\t1\t1\t10\t10\t20\t10\t96.5\tDear\n\
            5\t1\t1\t1\t1\t2\t35\t11\t30\t10\t90\tSirs,\n\
            5\t1\t1\t1\t2\t1\t10\t30\t20\t10\t80\tWe\n\
            5\t1\t1\t2\t1\t1\t10\t60\t40\t10\t70\tYours\n\
            5\t1\t1\t2\t1\t2\t55\t60\t5\t10\t95\t \n\
            5\t1\t1\t2\t1\t3\tx\t60\t5\t10\t95\tbad\n";
        let r = parse_tsv(tsv);
        let words: Vec<&str> = r.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, ["Dear", "Sirs,", "We", "Yours"]);
        assert_eq!(r.lines.len(), 3);
        assert_eq!(r.lines[0].words, 0..2);
        assert_eq!(
            r.lines[0].bbox,
            BBox {
                left: 10,
                top: 10,
                width: 55,
                height: 11
            }
        );
        assert_eq!(
            r.lines.iter().map(|l| l.paragraph).collect::<Vec<_>>(),
            [0, 0, 1]
        );
        assert!((r.words[0].confidence - 0.965).abs() < 1e-6);
        let page = PageText {
            words: r.words,
            lines: r.lines,
            ..PageText::default()
        };
        assert_eq!(page.text(), "Dear Sirs,\nWe\n\nYours");
    }
}
