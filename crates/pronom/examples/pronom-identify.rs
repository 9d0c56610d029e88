//! Prints the PUIDs the bundled signatures give each file named:
//! `path<TAB>puid,puid...`. For comparing with fido by hand.

use std::io::{Read, Seek, SeekFrom};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = exhibit_pronom::bundled()?;
    for path in std::env::args().skip(1) {
        let mut file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        let mut head = Vec::new();
        (&mut file).take(exhibit_pronom::SAMPLE_BYTES as u64).read_to_end(&mut head)?;
        let tail = if size as usize > head.len() {
            file.seek(SeekFrom::Start(size.saturating_sub(exhibit_pronom::SAMPLE_BYTES as u64)))?;
            let mut tail = Vec::new();
            file.read_to_end(&mut tail)?;
            tail
        } else {
            head.clone()
        };
        let found: Vec<&str> = registry.identify(&head, &tail).iter().map(|f| f.puid.as_str()).collect();
        println!("{path}\t{}", found.join(","));
    }
    Ok(())
}
