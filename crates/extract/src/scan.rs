//! Pages with no usable text layer, kept with their picture for OCR: a scanned PDF
//! page's image, or a photo (JPEG, PNG, TIFF) that arrived on its own. Decoding is in pure
//! Rust and on demand, one page at a time, so a 20-page scan never holds 20 decoded pages:
//! JPEG is handed on as a file, Flate (and the other general filters) and CCITT fax are
//! decoded to grey pixels here; JBIG2 and JPEG 2000 have no decoder and say so.

use std::fmt;

use lopdf::Object;

/// A page whose text must come from OCR.
#[derive(Clone)]
pub struct ScannedPage {
    /// The page's index in the document (its place among the form-feed separated pages
    /// of [`crate::Extracted::text`]).
    pub page: u32,
    /// Dots per inch, from the page's size, when known.
    pub dpi: Option<u32>,
    pub(crate) image: PageImage,
}

impl fmt::Debug for ScannedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScannedPage")
            .field("page", &self.page)
            .field("dpi", &self.dpi)
            .field("image", &self.image.kind())
            .finish()
    }
}

/// A page's picture as found, not yet decoded.
#[derive(Clone)]
pub(crate) enum PageImage {
    /// A whole image file (a photo): decoded by the OCR side.
    File(bytes::Bytes),
    /// A PDF image XObject.
    Stream {
        stream: Box<lopdf::Stream>,
        colour: Colour,
        invert: bool,
        is_mask: bool,
    },
}

impl PageImage {
    fn kind(&self) -> &'static str {
        match self {
            PageImage::File(_) => "file",
            PageImage::Stream { .. } => "pdf image",
        }
    }
}

/// An image's colour space, as far as turning it grey needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Colour {
    Grey,
    Rgb,
    Cmyk,
    /// One index a pixel into a palette of `components`-component colours.
    Indexed {
        components: u8,
        palette: Vec<u8>,
    },
    Unknown,
}

impl Colour {
    pub(crate) fn components(&self) -> Option<u8> {
        match self {
            Colour::Grey | Colour::Indexed { .. } => Some(1),
            Colour::Rgb => Some(3),
            Colour::Cmyk => Some(4),
            Colour::Unknown => None,
        }
    }

    /// The base colour's components, for a palette's entries.
    fn base(&self) -> u8 {
        match self {
            Colour::Indexed { components, .. } => *components,
            _ => 1,
        }
    }
}

/// A page's picture, ready for OCR.
#[derive(Clone, PartialEq, Eq)]
pub enum Pixels {
    /// An image file (JPEG from a PDF, or the photo itself), for the OCR side to decode.
    File(bytes::Bytes),
    /// 8-bit grey pixels, `width * height` bytes, rows top to bottom.
    Grey {
        width: u32,
        height: u32,
        pixels: Vec<u8>,
    },
}

impl fmt::Debug for Pixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pixels::File(b) => write!(f, "File({} bytes)", b.len()),
            Pixels::Grey { width, height, .. } => write!(f, "Grey({width}x{height})"),
        }
    }
}

/// Why a page's picture could not be had. Each is a warning on that page only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageImageError {
    /// A compression postroom has no decoder for (JBIG2, JPEG 2000), or a colour space
    /// it cannot turn grey. Code `ocr_image_unsupported`.
    #[error("the page's image is in a format postroom cannot decode ({0})")]
    Unsupported(&'static str),
    /// More pixels than the page budget allows. Code `ocr_image_too_large`.
    #[error("the page's image is larger than the OCR budget")]
    TooLarge,
    /// Damaged image data. Code `ocr_image_unsupported`.
    #[error("the page's image is damaged")]
    Damaged,
}

impl PageImageError {
    pub fn code(self) -> &'static str {
        match self {
            PageImageError::TooLarge => "ocr_image_too_large",
            PageImageError::Unsupported(_) | PageImageError::Damaged => "ocr_image_unsupported",
        }
    }
}

/// Compressions that are the image's own, always last in a filter chain.
const IMAGE_CODECS: &[&[u8]] = &[
    b"DCTDecode",
    b"DCT",
    b"CCITTFaxDecode",
    b"CCF",
    b"JBIG2Decode",
    b"JPXDecode",
];

impl ScannedPage {
    pub(crate) fn photo(bytes: &[u8]) -> ScannedPage {
        ScannedPage {
            page: 0,
            dpi: None,
            image: PageImage::File(bytes::Bytes::copy_from_slice(bytes)),
        }
    }

    /// Decodes the page's picture, refusing one over `max_pixels` before decoding it
    /// (a JPEG's size is checked by the OCR side, which reads its header).
    pub fn pixels(&self, max_pixels: u64) -> Result<Pixels, PageImageError> {
        let (stream, colour, invert, is_mask) = match &self.image {
            PageImage::File(bytes) => return Ok(Pixels::File(bytes.clone())),
            PageImage::Stream {
                stream,
                colour,
                invert,
                is_mask,
            } => (stream, colour, *invert, *is_mask),
        };
        let dict = &stream.dict;
        let side = |key: &[u8]| {
            dict.get(key)
                .and_then(Object::as_i64)
                .ok()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
        };
        let (Some(width), Some(height)) = (side(b"Width"), side(b"Height")) else {
            return Err(PageImageError::Damaged);
        };
        if u64::from(width) * u64::from(height) > max_pixels {
            return Err(PageImageError::TooLarge);
        }
        let filters: Vec<Vec<u8>> = stream
            .filters()
            .map(|f| f.into_iter().map(<[u8]>::to_vec).collect())
            .unwrap_or_default();
        let params = |i: usize| -> Option<&lopdf::Dictionary> {
            match dict.get(b"DecodeParms") {
                Ok(Object::Array(a)) => a.get(i).and_then(|p| p.as_dict().ok()),
                Ok(Object::Dictionary(d)) => Some(d),
                _ => None,
            }
        };
        let (general, codec) = match filters.split_last() {
            Some((last, rest)) if IMAGE_CODECS.contains(&last.as_slice()) => {
                (rest.to_vec(), Some(last.clone()))
            }
            _ => (filters.clone(), None),
        };
        // The general filters (Flate, LZW, ASCII85...) through lopdf, bounded.
        let raw_limit = raw_bytes(width, height, colour.components().unwrap_or(4), 16)
            .saturating_add(1024)
            .max(stream.content.len().saturating_mul(2));
        let data = if general.is_empty() {
            stream.content.clone()
        } else {
            let mut d = lopdf::Dictionary::new();
            d.set(
                "Filter",
                Object::Array(general.iter().map(|n| Object::Name(n.clone())).collect()),
            );
            let p: Vec<Object> = (0..general.len())
                .map(|i| params(i).cloned().map_or(Object::Null, Object::Dictionary))
                .collect();
            d.set("DecodeParms", Object::Array(p));
            lopdf::Stream::new(d, stream.content.clone())
                .decompressed_content_with_limit(raw_limit)
                .map_err(|_| PageImageError::Damaged)?
        };
        match codec.as_deref() {
            Some(b"DCTDecode" | b"DCT") => Ok(Pixels::File(bytes::Bytes::from(data))),
            Some(b"CCITTFaxDecode" | b"CCF") => {
                let p = params(filters.len() - 1);
                ccitt(&data, width, height, p, invert)
            }
            Some(b"JBIG2Decode") => Err(PageImageError::Unsupported("JBIG2")),
            Some(b"JPXDecode") => Err(PageImageError::Unsupported("JPEG 2000")),
            Some(_) => Err(PageImageError::Unsupported("unknown compression")),
            None => {
                let bits = if is_mask {
                    1
                } else {
                    dict.get(b"BitsPerComponent")
                        .and_then(Object::as_i64)
                        .unwrap_or(8)
                };
                samples(&data, width, height, bits, colour, invert)
            }
        }
    }
}

/// A photo's width and height from its header, when it has a readable one.
pub(crate) fn picture_size(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
        .filter(|(w, h)| *w > 0 && *h > 0)
}

fn raw_bytes(width: u32, height: u32, components: u8, bits: u32) -> usize {
    let row = (u64::from(width) * u64::from(components) * u64::from(bits)).div_ceil(8);
    usize::try_from(row * u64::from(height)).unwrap_or(usize::MAX)
}

/// Raw samples (after the general filters) to grey.
fn samples(
    data: &[u8],
    width: u32,
    height: u32,
    bits: i64,
    colour: &Colour,
    invert: bool,
) -> Result<Pixels, PageImageError> {
    let bits = match bits {
        1 | 2 | 4 | 8 | 16 => bits as u32,
        _ => return Err(PageImageError::Damaged),
    };
    let Some(components) = colour.components() else {
        return Err(PageImageError::Unsupported("colour space"));
    };
    let row_bytes = (u64::from(width) * u64::from(components) * u64::from(bits)).div_ceil(8);
    let row_bytes = usize::try_from(row_bytes).map_err(|_| PageImageError::TooLarge)?;
    if data.len() < row_bytes {
        // Not even one row: nothing of the page is there.
        return Err(PageImageError::Damaged);
    }
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    let max = (1u32 << bits.min(8)) - 1;
    let mut sample_values = vec![0u8; components as usize];
    for y in 0..height as usize {
        // A short stream (a truncated scan) reads as white below where it ends.
        let row = data.get(y * row_bytes..(y + 1) * row_bytes);
        for x in 0..width as usize {
            let Some(row) = row else {
                pixels.push(255);
                continue;
            };
            for (c, value) in sample_values.iter_mut().enumerate() {
                let index = x * components as usize + c;
                let raw = read_sample(row, index, bits);
                // Scaled to 0-255 (an index stays an index).
                let v = if matches!(colour, Colour::Indexed { .. }) {
                    raw.min(255) as u8
                } else {
                    ((raw * 255) / max) as u8
                };
                *value = if invert && !matches!(colour, Colour::Indexed { .. }) {
                    255 - v
                } else {
                    v
                };
            }
            pixels.push(grey_of(colour, &sample_values));
        }
    }
    Ok(Pixels::Grey {
        width,
        height,
        pixels,
    })
}

/// The `index`th sample of a row, at `bits` a sample (16-bit samples keep their high byte).
fn read_sample(row: &[u8], index: usize, bits: u32) -> u32 {
    match bits {
        8 => u32::from(row.get(index).copied().unwrap_or(255)),
        16 => u32::from(row.get(index * 2).copied().unwrap_or(255)),
        _ => {
            let bit = index * bits as usize;
            let byte = row.get(bit / 8).copied().unwrap_or(255);
            let shift = 8 - bits as usize - (bit % 8);
            (u32::from(byte) >> shift) & ((1 << bits) - 1)
        }
    }
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
}

fn grey_of(colour: &Colour, v: &[u8]) -> u8 {
    match colour {
        Colour::Grey | Colour::Unknown => v[0],
        Colour::Rgb => luma(v[0], v[1], v[2]),
        Colour::Cmyk => {
            let ink = |c: u8| 255 - u32::from(c).saturating_add(u32::from(v[3])).min(255) as u8;
            luma(ink(v[0]), ink(v[1]), ink(v[2]))
        }
        Colour::Indexed { palette, .. } => {
            let n = colour.base() as usize;
            let at = v[0] as usize * n;
            match palette.get(at..at + n) {
                Some(entry) if n == 3 => luma(entry[0], entry[1], entry[2]),
                Some(entry) if n == 4 => {
                    let ink = |c: u8| {
                        255 - u32::from(c).saturating_add(u32::from(entry[3])).min(255) as u8
                    };
                    luma(ink(entry[0]), ink(entry[1]), ink(entry[2]))
                }
                Some(entry) => entry[0],
                None => 255,
            }
        }
    }
}

/// CCITT Group 3 (one-dimensional) and Group 4 fax data to grey, through the `fax` crate.
fn ccitt(
    data: &[u8],
    width: u32,
    height: u32,
    params: Option<&lopdf::Dictionary>,
    invert: bool,
) -> Result<Pixels, PageImageError> {
    let int = |key: &[u8], default: i64| {
        params
            .and_then(|p| p.get(key).and_then(Object::as_i64).ok())
            .unwrap_or(default)
    };
    let flag = |key: &[u8]| params.is_some_and(|p| matches!(p.get(key), Ok(Object::Boolean(true))));
    let k = int(b"K", 0);
    // The standard's default is 1728 (a fax line); a scan that leaves it out is read at
    // its image's width, which is what it was coded at in practice.
    let columns = int(b"Columns", i64::from(width));
    let black_is_1 = flag(b"BlackIs1");
    let columns = u16::try_from(columns).map_err(|_| PageImageError::TooLarge)?;
    let rows = u16::try_from(height).map_err(|_| PageImageError::TooLarge)?;
    // A line is `Columns` pixels, whatever /Width says.
    let width = u32::from(columns);
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    let mut lines = 0u32;
    // A black pixel is a 0 sample unless BlackIs1; a Decode of [1 0] swaps them back.
    let black = if black_is_1 != invert { 255 } else { 0 };
    let white = 255 - black;
    let mut line = |transitions: &[u16]| {
        if lines >= height {
            return;
        }
        lines += 1;
        pixels.extend(fax::decoder::pels(transitions, columns).map(|c| match c {
            fax::Color::Black => black,
            fax::Color::White => white,
        }));
    };
    let done = if k < 0 {
        fax::decoder::decode_g4(data.iter().copied(), columns, Some(rows), &mut line)
    } else if k == 0 {
        fax::decoder::decode_g3(data.iter().copied(), &mut line)
    } else {
        return Err(PageImageError::Unsupported("CCITT mixed 2-D (K > 0)"));
    };
    if done.is_none() && lines == 0 {
        return Err(PageImageError::Damaged);
    }
    // Lines the data did not reach are white.
    pixels.resize(width as usize * height as usize, 255);
    Ok(Pixels::Grey {
        width,
        height,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_stream(dict: Vec<(&str, Object)>, content: Vec<u8>) -> ScannedPage {
        let mut d = lopdf::Dictionary::new();
        for (k, v) in dict {
            d.set(k, v);
        }
        ScannedPage {
            page: 0,
            dpi: Some(200),
            image: PageImage::Stream {
                stream: Box::new(lopdf::Stream::new(d, content)),
                colour: Colour::Grey,
                invert: false,
                is_mask: false,
            },
        }
    }

    #[test]
    fn flate_grey_samples_are_decoded() {
        use std::io::Write as _;
        let raw: Vec<u8> = (0..200 * 300).map(|i| (i % 251) as u8).collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&raw).unwrap();
        let page = image_stream(
            vec![
                ("Width", Object::Integer(200)),
                ("Height", Object::Integer(300)),
                ("BitsPerComponent", Object::Integer(8)),
                ("Filter", Object::Name(b"FlateDecode".to_vec())),
            ],
            z.finish().unwrap(),
        );
        match page.pixels(1_000_000).unwrap() {
            Pixels::Grey {
                width,
                height,
                pixels,
            } => {
                assert_eq!((width, height), (200, 300));
                assert_eq!(pixels, raw);
            }
            other => panic!("expected grey pixels, got {other:?}"),
        }
        assert_eq!(page.pixels(1000), Err(PageImageError::TooLarge));
    }

    #[test]
    fn one_bit_samples_and_inversion() {
        // 8 pixels a row: 1010 1010, then 0000 1111.
        let mut page = image_stream(
            vec![
                ("Width", Object::Integer(8)),
                ("Height", Object::Integer(2)),
                ("BitsPerComponent", Object::Integer(1)),
            ],
            vec![0b1010_1010, 0b0000_1111],
        );
        let Pixels::Grey { pixels, .. } = page.pixels(100).unwrap() else {
            panic!("grey expected")
        };
        assert_eq!(&pixels[..8], &[255, 0, 255, 0, 255, 0, 255, 0]);
        assert_eq!(&pixels[8..], &[0, 0, 0, 0, 255, 255, 255, 255]);
        if let PageImage::Stream { invert, .. } = &mut page.image {
            *invert = true;
        }
        let Pixels::Grey { pixels, .. } = page.pixels(100).unwrap() else {
            panic!("grey expected")
        };
        assert_eq!(&pixels[..2], &[0, 255]);
    }

    #[test]
    fn ccitt_group4_round_trips_through_the_fax_encoder() {
        let (width, height) = (64u16, 16u16);
        // A black bar across rows 4 to 11, columns 8 to 55.
        let black = |x: u16, y: u16| (4..12).contains(&y) && (8..56).contains(&x);
        let mut encoder = fax::encoder::Encoder::new(fax::VecWriter::new());
        for y in 0..height {
            let row = (0..width).map(|x| {
                if black(x, y) {
                    fax::Color::Black
                } else {
                    fax::Color::White
                }
            });
            encoder.encode_line(row, width).unwrap();
        }
        let data = encoder.finish().unwrap().finish();
        let mut params = lopdf::Dictionary::new();
        params.set("K", Object::Integer(-1));
        params.set("Columns", Object::Integer(i64::from(width)));
        params.set("Rows", Object::Integer(i64::from(height)));
        let page = image_stream(
            vec![
                ("Width", Object::Integer(i64::from(width))),
                ("Height", Object::Integer(i64::from(height))),
                ("BitsPerComponent", Object::Integer(1)),
                ("Filter", Object::Name(b"CCITTFaxDecode".to_vec())),
                ("DecodeParms", Object::Dictionary(params)),
            ],
            data,
        );
        let Pixels::Grey {
            pixels, width: w, ..
        } = page.pixels(100_000).unwrap()
        else {
            panic!("grey expected")
        };
        assert_eq!(w, u32::from(width));
        for y in 0..height {
            for x in 0..width {
                let want = if black(x, y) { 0 } else { 255 };
                assert_eq!(
                    pixels[y as usize * width as usize + x as usize],
                    want,
                    "({x},{y})"
                );
            }
        }
    }

    #[test]
    fn codecs_without_a_decoder_say_so() {
        for (filter, code) in [("JBIG2Decode", "JBIG2"), ("JPXDecode", "JPEG 2000")] {
            let page = image_stream(
                vec![
                    ("Width", Object::Integer(300)),
                    ("Height", Object::Integer(300)),
                    ("Filter", Object::Name(filter.as_bytes().to_vec())),
                ],
                vec![0; 16],
            );
            assert_eq!(
                page.pixels(1_000_000),
                Err(PageImageError::Unsupported(code))
            );
        }
        let garbage = image_stream(
            vec![
                ("Width", Object::Integer(300)),
                ("Height", Object::Integer(300)),
                ("Filter", Object::Name(b"FlateDecode".to_vec())),
            ],
            b"not zlib at all".to_vec(),
        );
        assert_eq!(garbage.pixels(1_000_000), Err(PageImageError::Damaged));
    }
}
