//! Adobe's CJK character collections: the Unicode character of a CID in Adobe-Japan1,
//! -GB1, -CNS1 and -Korea1, for CID fonts without a ToUnicode map (see `cid/README.md`).

static JAPAN1: &[u8] = include_bytes!("cid/Adobe-Japan1.bin");
static GB1: &[u8] = include_bytes!("cid/Adobe-GB1.bin");
static CNS1: &[u8] = include_bytes!("cid/Adobe-CNS1.bin");
static KOREA1: &[u8] = include_bytes!("cid/Adobe-Korea1.bin");

/// One collection's table.
#[derive(Debug, Clone, Copy)]
pub struct Collection(&'static [u8]);

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

impl Collection {
    /// The collection of a CIDSystemInfo `/Ordering` (`Japan1`, `GB1`, `CNS1`, `Korea1`).
    pub fn for_ordering(ordering: &str) -> Option<Collection> {
        let data = match ordering {
            "Japan1" | "Japan2" => JAPAN1,
            "GB1" => GB1,
            "CNS1" => CNS1,
            "Korea1" => KOREA1,
            _ => return None,
        };
        Some(Collection(data))
    }

    /// The character a CID stands for.
    pub fn unicode(self, cid: u32) -> Option<char> {
        let data = self.0;
        let count = u32_at(data, 0)?;
        if cid >= count {
            return None;
        }
        let at = 8 + 2 * cid as usize;
        let cp = u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?);
        match cp {
            0 => None,
            0xFFFF => {
                let extra = u32_at(data, 4)? as usize;
                let base = 8 + 2 * count as usize;
                (0..extra)
                    .find(|i| u32_at(data, base + 8 * i) == Some(cid))
                    .and_then(|i| u32_at(data, base + 8 * i + 4))
                    .and_then(char::from_u32)
            }
            cp => char::from_u32(u32::from(cp)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_map_to_their_characters() {
        let japan = Collection::for_ordering("Japan1").unwrap();
        assert_eq!(japan.unicode(1), Some(' '));
        assert_eq!(japan.unicode(34), Some('A'));
        assert_eq!(japan.unicode(843), Some('あ'));
        assert_eq!(japan.unicode(10_000_000), None);
        assert!(Collection::for_ordering("Identity").is_none());
    }
}
