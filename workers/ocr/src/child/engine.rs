//! The OCR run inside the child: a page reader thread, one recognition
//! worker per core, and in-order rendering (see the module docs of `child`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Condvar, Mutex};

use super::ffi::{self, Api, Pix, Renderers};
use super::input::{self, DecodedPage, Format, Item, Original};
use super::{orient, reproducible};
use crate::{HOCR_FILE, OcrError, OcrOutcome, OcrPolicy, PDF_FILE, PageResult, TEXT_FILE};

/// Renderer output base name, in the work folder.
const BASE: &str = "ocr";

/// State shared by the workers.
struct Shared {
    /// The next render sequence number, the renderers, and the first error.
    /// A worker holds this lock while it renders its page.
    render: Mutex<RenderState>,
    turn: Condvar,
    /// Set with the first error; read without the render lock, so that the
    /// reader and the other workers never wait for a page being rendered.
    stopping: AtomicBool,
    results: Mutex<Vec<PageResult>>,
    /// The pages handed to the workers and not yet done, and the memory
    /// they reserve (see [`page_cost`]); the reader waits while more would
    /// pass the budget.
    in_flight: Mutex<InFlight>,
    freed: Condvar,
}

/// What the memory gate holds.
#[derive(Default)]
struct InFlight {
    bytes: u64,
    pages: u32,
    /// The most pages held at once, reported in the outcome.
    most_pages: u32,
}

struct RenderState {
    next: u32,
    renderers: Option<Renderers>,
    error: Option<OcrError>,
}

impl Shared {
    fn fail(&self, e: OcrError) {
        self.stopping.store(true, Ordering::Release);
        let mut st = self.render.lock().unwrap_or_else(|p| p.into_inner());
        st.error.get_or_insert(e);
        self.turn.notify_all();
        drop(st);
        // Under the lock, so a reader about to wait sees `stopping` or the wake-up.
        let _in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        self.freed.notify_all();
    }

    /// Waits until a page costing `cost` fits in `budget` beside the pages in
    /// flight (a page always runs when none is in flight), and reserves it.
    fn admit(&self, cost: u64, budget: u64) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        while in_flight.pages > 0 && in_flight.bytes.saturating_add(cost) > budget && !self.failed() {
            in_flight = self.freed.wait(in_flight).unwrap_or_else(|p| p.into_inner());
        }
        in_flight.bytes = in_flight.bytes.saturating_add(cost);
        in_flight.pages += 1;
        in_flight.most_pages = in_flight.most_pages.max(in_flight.pages);
    }

    fn release(&self, cost: u64) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        in_flight.bytes = in_flight.bytes.saturating_sub(cost);
        in_flight.pages = in_flight.pages.saturating_sub(1);
        self.freed.notify_all();
    }

    fn failed(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }
}

/// OCRs one document into `out_dir`.
pub fn run(input: &Path, media_type: &str, policy: &OcrPolicy, out_dir: &Path) -> Result<OcrOutcome, OcrError> {
    ffi::quiet_leptonica();
    super::tiff_errors::install();
    let langs = policy.language_string();
    let threads =
        if policy.threads > 0 { policy.threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    // The first engine also proves the languages load before any work starts.
    // Orientation data loads when a page first needs it.
    let first = Engine::new(&langs, policy.rotate)?;
    let renderers = Renderers::begin(BASE, &first.api, "exhibit-ocr")?;
    let shared = Arc::new(Shared {
        render: Mutex::new(RenderState { next: 0, renderers: Some(renderers), error: None }),
        turn: Condvar::new(),
        stopping: AtomicBool::new(false),
        results: Mutex::new(Vec::new()),
        in_flight: Mutex::new(InFlight::default()),
        freed: Condvar::new(),
    });
    let (tx, rx) = sync_channel::<DecodedPage>(1);
    let rx = Arc::new(Mutex::new(rx));
    let mut notes = Vec::new();
    let mut document_notes = Vec::new();
    let page_count = std::thread::scope(|scope| {
        let mut first = Some(first);
        for _ in 0..threads {
            let (rx, shared, langs) = (Arc::clone(&rx), Arc::clone(&shared), &langs);
            let engine = first.take();
            scope.spawn(move || {
                // The other engines load while the first pages are decoded and recognised.
                match engine.map_or_else(|| Engine::new(langs, policy.rotate), Ok) {
                    Ok(engine) => worker(engine, &rx, &shared, policy),
                    Err(e) => shared.fail(e),
                }
            });
        }
        let mut sink = |item: Item| match item {
            Item::Page(page) => {
                // Huge pages run fewer at a time, so the run stays within ocr.max_memory (repro-10).
                shared.admit(page_cost(&page), policy.max_memory / 2);
                !shared.failed() && tx.send(page).is_ok()
            }
            Item::TextLayer(index) => {
                push_result(&shared, text_layer_result(index));
                !shared.failed()
            }
            Item::Note(index, note) => {
                notes.push((index, note));
                true
            }
            Item::DocumentNote(note) => {
                document_notes.push(note);
                true
            }
        };
        let count = input::read_document(input, media_type, policy, &mut sink);
        drop(tx);
        count
    });
    let shared = Arc::into_inner(shared).ok_or_else(|| OcrError::corrupt("OCR workers did not finish"))?;
    let st = shared.render.into_inner().unwrap_or_else(|p| p.into_inner());
    let page_count = page_count?;
    if let Some(e) = st.error {
        return Err(e);
    }
    let renderers = st.renderers.ok_or_else(|| OcrError::corrupt("renderers lost"))?;
    renderers.end()?;
    let mut pages = shared.results.into_inner().unwrap_or_else(|p| p.into_inner());
    pages.sort_by_key(|p| p.index);
    if pages.len() != page_count as usize {
        return Err(OcrError::corrupt(format!("read {page_count} pages but OCRed {}", pages.len())));
    }
    for (index, note) in notes {
        if let Some(page) = pages.iter_mut().find(|p| p.index == index) {
            add_review_note(page, note);
        }
    }
    let pages_ocred = st.next;
    let most_pages_in_flight = shared.in_flight.into_inner().unwrap_or_else(|p| p.into_inner()).most_pages;
    finish_outputs(out_dir, pages_ocred > 0)?;
    let (tesseract_version, leptonica_version) = ffi::versions();
    Ok(OcrOutcome {
        pages,
        tesseract_version,
        leptonica_version,
        languages: policy.languages.clone(),
        pages_ocred,
        searchable_pdf: pages_ocred > 0,
        most_pages_in_flight,
        notes: document_notes,
    })
}

/// Moves the renderer outputs into `out_dir` under their final names. When
/// no page was OCRed (every page has a text layer) there are none: an empty
/// text file would read as "OCR found nothing".
fn finish_outputs(out_dir: &Path, any_page_ocred: bool) -> Result<(), OcrError> {
    fn io(what: &'static str) -> impl Fn(std::io::Error) -> OcrError {
        move |e| OcrError::io(&format!("cannot write {what}"), e)
    }
    let (text, hocr, pdf_name) = (format!("{BASE}.txt"), format!("{BASE}.hocr"), format!("{BASE}.pdf"));
    if any_page_ocred {
        std::fs::rename(&text, out_dir.join(TEXT_FILE)).map_err(io(TEXT_FILE))?;
        std::fs::rename(&hocr, out_dir.join(HOCR_FILE)).map_err(io(HOCR_FILE))?;
        let mut pdf = std::fs::read(&pdf_name).map_err(io(PDF_FILE))?;
        reproducible::fix_dates(&mut pdf);
        std::fs::write(out_dir.join(PDF_FILE), pdf).map_err(io(PDF_FILE))?;
    }
    for name in [text, hocr, pdf_name] {
        let _ = std::fs::remove_file(name);
    }
    Ok(())
}

/// Why a page with a text layer was not OCRed.
pub const TEXT_LAYER_REASON: &str = "the page already has a text layer (born-digital or already searchable); not OCRed";

fn text_layer_result(index: u32) -> PageResult {
    PageResult {
        index,
        mean_confidence: 0,
        word_count: 0,
        rotated_degrees: 0,
        had_text_layer: true,
        needs_review: false,
        reason: Some(TEXT_LAYER_REASON.into()),
    }
}

/// Flags `page` for review with `note`, after any reason it has.
fn add_review_note(page: &mut PageResult, note: String) {
    page.reason = Some(match page.reason.take() {
        Some(reason) => format!("{reason}; {note}"),
        None => note,
    });
    page.needs_review = true;
}

/// Bytes of memory recognising a page takes at its peak, by the estimate
/// (`memory_cap::page_memory`), from its decoded size.
fn page_cost(page: &DecodedPage) -> u64 {
    crate::memory_cap::page_memory(page.pix.width(), page.pix.height(), Some(page.pix.depth()))
}

fn push_result(shared: &Shared, r: PageResult) {
    shared.results.lock().unwrap_or_else(|p| p.into_inner()).push(r);
}

/// A worker's engines: recognition, and orientation detection if enabled.
struct Engine {
    api: Api,
    osd: Option<orient::Osd>,
}

impl Engine {
    fn new(langs: &str, rotate: bool) -> Result<Self, OcrError> {
        let mut api = Api::new(langs, false)?;
        // Reproducible hOCR/PDF: no timing-dependent output.
        api.set_variable("debug_file", "/dev/null")?;
        let osd = rotate.then(orient::Osd::default);
        Ok(Self { api, osd })
    }
}

fn worker(mut engine: Engine, rx: &Mutex<Receiver<DecodedPage>>, shared: &Shared, policy: &OcrPolicy) {
    loop {
        let page = {
            let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
            guard.recv()
        };
        let Ok(page) = page else { return };
        let cost = page_cost(&page);
        if !shared.failed() {
            if let Err(e) = process_page(&mut engine, page, shared, policy) {
                shared.fail(e);
            }
        }
        shared.release(cost);
    }
}

fn process_page(engine: &mut Engine, page: DecodedPage, shared: &Shared, policy: &OcrPolicy) -> Result<(), OcrError> {
    let DecodedPage { index, seq, mut pix, original, ppi, text_layer, damage } = page;
    pix.set_resolution(ppi, ppi);
    pix.clear_input_format();
    let (pix, rotated) = orient::recognize_upright(&mut engine.api, engine.osd.as_mut(), pix, ppi)?;
    let file = write_page_image(seq, &pix, original.filter(|_| rotated == 0))?;
    engine.api.set_input_name(&file)?;
    drop(pix);
    let (word_count, mean_confidence) = engine.api.word_stats();
    let reason = if damage.is_some() {
        damage
    } else if word_count == 0 {
        Some("no words found".to_owned())
    } else if word_count < policy.min_words {
        Some(format!("nearly empty: {word_count} words found"))
    } else if mean_confidence < policy.min_confidence {
        Some(format!("mean confidence {mean_confidence} is below {}", policy.min_confidence))
    } else {
        None
    };
    render_in_turn(engine, seq, shared)?;
    let _ = std::fs::remove_file(&file);
    push_result(
        shared,
        PageResult {
            index,
            mean_confidence,
            word_count,
            rotated_degrees: rotated,
            had_text_layer: text_layer,
            needs_review: reason.is_some(),
            reason,
        },
    );
    Ok(())
}

/// Writes the file the PDF renderer embeds and returns its name: the original
/// when there is one (JPEG and PNG are copied into the PDF as they are), else
/// a lossless G4 TIFF or PNG of `pix`.
fn write_page_image(seq: u32, pix: &Pix, original: Option<Original>) -> Result<String, OcrError> {
    let bitonal = pix.depth() == 1;
    // A 1-bit PNG would be re-encoded as Flate: G4 is smaller.
    let usable = |o: &Original| o.embeddable() && (o.format == Format::Jpeg || (o.format == Format::Tiff) == bitonal);
    let (format, bytes) = match original.filter(usable) {
        Some(o) => (o.format, o.bytes),
        None if bitonal => (Format::Tiff, pix.write_mem(true)?),
        None => (Format::Png, pix.write_mem(false)?),
    };
    let file = format!("page-{seq:05}.{}", format.extension());
    std::fs::write(&file, &bytes).map_err(|e| OcrError::io("cannot write a page image", e))?;
    Ok(file)
}

/// Waits until pages before `seq` are rendered, then adds this one.
fn render_in_turn(engine: &mut Engine, seq: u32, shared: &Shared) -> Result<(), OcrError> {
    let mut st = shared.render.lock().unwrap_or_else(|p| p.into_inner());
    while st.next != seq && st.error.is_none() {
        st = shared.turn.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    if let Some(e) = &st.error {
        return Err(e.clone());
    }
    let renderers = st.renderers.as_mut().ok_or_else(|| OcrError::corrupt("renderers lost"))?;
    renderers.add(&mut engine.api)?;
    st.next += 1;
    shared.turn.notify_all();
    Ok(())
}
