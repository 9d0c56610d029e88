//! LZNT1 lives in `exhibit-core`, so the view reader that decodes
//! compressed NTFS streams and this reader share one decoder.

pub(crate) use exhibit_core::lznt1::decompress;
