//! `postroom demo`: the bundled samples (made by tests/data/generate.py, fictional
//! people only), ingested into the embedded default.

/// The samples, in the order the post arrives.
pub const SAMPLES: &[(&str, &[u8])] = &[
    (
        "01-letter-of-claim.pdf",
        include_bytes!("../samples/01-letter-of-claim.pdf"),
    ),
    (
        "02-expert-report.pdf",
        include_bytes!("../samples/02-expert-report.pdf"),
    ),
    (
        "03-part-36-offer.docx",
        include_bytes!("../samples/03-part-36-offer.docx"),
    ),
    (
        "04-foi-request.eml",
        include_bytes!("../samples/04-foi-request.eml"),
    ),
    (
        "05-internal-review.eml",
        include_bytes!("../samples/05-internal-review.eml"),
    ),
    (
        "06-notice-of-appeal.pdf",
        include_bytes!("../samples/06-notice-of-appeal.pdf"),
    ),
    (
        "07-letter-of-claim-copy.pdf",
        include_bytes!("../samples/07-letter-of-claim-copy.pdf"),
    ),
    (
        "08-letter-without-reference.pdf",
        include_bytes!("../samples/08-letter-without-reference.pdf"),
    ),
    (
        "09-photo-named-as.pdf",
        include_bytes!("../samples/09-photo-named-as.pdf"),
    ),
];
