//! The bundled signature file: it loads, every sequence compiles, and known
//! formats are found.

use exhibit_pronom::bundled;

fn puids(head: &[u8]) -> Vec<String> {
    bundled().unwrap().identify(head, head).iter().map(|f| f.puid.clone()).collect()
}

#[test]
fn bundled_file_loads_and_every_sequence_compiles() {
    let r = bundled().unwrap();
    assert_eq!(r.version(), exhibit_pronom::SIGNATURE_VERSION);
    assert!(r.formats().len() > 2000, "{}", r.formats().len());
    assert_eq!(r.uncompilable_sequences(), 0);
}

#[test]
fn finds_common_formats() {
    assert_eq!(puids(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ["fmt/4"]);
    assert_eq!(puids(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"), ["fmt/18"]);
}
