//! Safe wrappers over the Leptonica and Tesseract C APIs used by the child.
//! Every `unsafe` block of the crate's OCR path is here, but for libtiff's
//! error handler (`tiff_errors`).

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr;

use leptonica_sys as lept;
use tesseract_sys as tess;

use crate::{OcrError, OcrErrorKind};

/// An owned Leptonica image.
pub struct Pix(*mut lept::Pix);

// SAFETY: a Pix is plain heap memory with a refcount that only this owner
// touches; moving it to another thread is sound.
unsafe impl Send for Pix {}

impl Drop for Pix {
    fn drop(&mut self) {
        // SAFETY: self.0 came from Leptonica and is destroyed exactly once.
        unsafe { lept::pixDestroy(&mut self.0) }
    }
}

/// Width, height and depth read from an image header without decoding pixels.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub width: u32,
    pub height: u32,
}

impl Pix {
    fn from_raw(p: *mut lept::Pix, what: &str) -> Result<Self, OcrError> {
        if p.is_null() {
            Err(OcrError::corrupt(format!("{what}: Leptonica could not decode the image")))
        } else {
            Ok(Self(p))
        }
    }

    /// Decodes a PNG, JPEG, TIFF (first page), PNM or JP2 from memory.
    pub fn read_mem(data: &[u8]) -> Result<Self, OcrError> {
        // SAFETY: data is a valid slice for the duration of the call; Leptonica copies what it keeps.
        Self::from_raw(unsafe { lept::pixReadMem(data.as_ptr(), data.len()) }, "image")
    }

    /// Decodes a JPEG whose data is damaged or ends early as far as libjpeg
    /// can (it fills what is missing), where [`Pix::read_mem`] refuses it.
    pub fn read_damaged_jpeg(data: &[u8]) -> Result<Self, OcrError> {
        let mut warnings: i32 = 0;
        let hint = lept::L_JPEG_CONTINUE_WITH_BAD_DATA as i32;
        // SAFETY: data is valid for the call; warnings is a live local out pointer.
        let pix = unsafe { lept::pixReadMemJpeg(data.as_ptr(), data.len(), 0, 1, &mut warnings, hint) };
        Self::from_raw(pix, "JPEG")
    }

    /// Decodes the TIFF page at `*offset` and moves `offset` to the next page (0 after the last).
    pub fn read_tiff_page(data: &[u8], offset: &mut usize) -> Result<Self, OcrError> {
        // SAFETY: data is valid for the call; offset is a valid out pointer.
        Self::from_raw(unsafe { lept::pixReadMemFromMultipageTiff(data.as_ptr(), data.len(), offset) }, "TIFF page")
    }

    /// Reads only the header of an encoded image.
    pub fn read_header(data: &[u8]) -> Result<Header, OcrError> {
        let (mut format, mut w, mut h, mut bps, mut spp, mut cmap) = (0, 0, 0, 0, 0, 0);
        // SAFETY: data is valid for the call; all out pointers are to live locals.
        let rc = unsafe {
            lept::pixReadHeaderMem(
                data.as_ptr(),
                data.len(),
                &mut format,
                &mut w,
                &mut h,
                &mut bps,
                &mut spp,
                &mut cmap,
            )
        };
        if rc != 0 || w <= 0 || h <= 0 {
            return Err(OcrError::corrupt("cannot read the image header"));
        }
        Ok(Header { width: w as u32, height: h as u32 })
    }

    pub fn width(&self) -> u32 {
        // SAFETY: self.0 is a live Pix.
        unsafe { lept::pixGetWidth(self.0) }.max(0) as u32
    }

    pub fn height(&self) -> u32 {
        // SAFETY: self.0 is a live Pix.
        unsafe { lept::pixGetHeight(self.0) }.max(0) as u32
    }

    pub fn depth(&self) -> u32 {
        // SAFETY: self.0 is a live Pix.
        unsafe { lept::pixGetDepth(self.0) }.max(0) as u32
    }

    /// Vertical resolution in pixels per inch (0 if unknown).
    pub fn y_res(&self) -> i32 {
        // SAFETY: self.0 is a live Pix.
        unsafe { lept::pixGetYRes(self.0) }
    }

    pub fn set_resolution(&mut self, x: i32, y: i32) {
        // SAFETY: self.0 is a live Pix.
        unsafe { lept::pixSetResolution(self.0, x, y) };
    }

    /// A copy at half the width and height: 8-bit grey for a 1-bit page (so
    /// thin strokes survive), else smoothed at the same depth.
    pub fn half_size(&self) -> Result<Self, OcrError> {
        // SAFETY: self.0 is a live Pix; either call returns a new Pix we own (or null).
        let p =
            unsafe { if self.depth() == 1 { lept::pixScaleToGray2(self.0) } else { lept::pixScale(self.0, 0.5, 0.5) } };
        Self::from_raw(p, "half-size copy")
    }

    /// Forgets which file format the image was decoded from. Tesseract's PDF
    /// renderer re-encodes a Pix read from a PNG (and marks a 1-bit one
    /// inverted) instead of embedding the page file it is given.
    pub fn clear_input_format(&mut self) {
        // SAFETY: self.0 is a live Pix; this sets one field.
        unsafe { lept::pixSetInputFormat(self.0, lept::IFF_UNKNOWN as i32) };
    }

    /// The image as recognition and the renderers expect it: a colormap
    /// replaced by plain pixels (1-bit for black and white, else grey or RGB)
    /// and 16-bit samples cut to 8.
    pub fn plain(self) -> Result<Self, OcrError> {
        let mut pix = self;
        // SAFETY: pix.0 is a live Pix; GetColormap only reads it.
        if !unsafe { lept::pixGetColormap(pix.0) }.is_null() {
            // SAFETY: pix.0 is a live Pix; the result is a new Pix we own; the old one is dropped.
            let p = unsafe { lept::pixRemoveColormap(pix.0, lept::REMOVE_CMAP_BASED_ON_SRC as i32) };
            pix = Self::from_raw(p, "palette removal")?;
        }
        if pix.depth() == 16 {
            // SAFETY: as above; the most significant byte of each sample is kept.
            let p = unsafe { lept::pixConvert16To8(pix.0, lept::L_MS_BYTE as i32) };
            pix = Self::from_raw(p, "16-bit to 8-bit conversion")?;
        }
        Ok(pix)
    }

    /// A copy turned clockwise by `quads` quarter turns.
    pub fn rotate_orth(&self, quads: i32) -> Result<Self, OcrError> {
        // SAFETY: self.0 is a live Pix; the result is a new Pix we own.
        Self::from_raw(unsafe { lept::pixRotateOrth(self.0, quads) }, "rotation")
    }

    /// Encodes as PNG (`g4 = false`) or G4 TIFF (`g4 = true`, 1 bpp only).
    pub fn write_mem(&self, g4: bool) -> Result<Vec<u8>, OcrError> {
        let format = if g4 { lept::IFF_TIFF_G4 } else { lept::IFF_PNG } as i32;
        let mut data: *mut u8 = ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: out pointers are to live locals; on success Leptonica hands
        // us a malloc'd buffer of `size` bytes that we copy and free once.
        unsafe {
            if lept::pixWriteMem(&mut data, &mut size, self.0, format) != 0 || data.is_null() {
                return Err(OcrError::new(OcrErrorKind::Io, "cannot encode a page image"));
            }
            let out = std::slice::from_raw_parts(data, size).to_vec();
            lept::lept_free(data.cast());
            Ok(out)
        }
    }
}

/// Silences Leptonica's messages on stderr below errors.
pub fn quiet_leptonica() {
    // SAFETY: sets a global severity level; called once before threads start.
    unsafe { lept::setMsgSeverity(lept::L_SEVERITY_ERROR as i32) };
}

/// Tesseract's and Leptonica's version strings.
pub fn versions() -> (String, String) {
    // SAFETY: TessVersion returns a static NUL-terminated string.
    let tess = unsafe { CStr::from_ptr(tess::TessVersion()) }.to_string_lossy().into_owned();
    // SAFETY: getLeptonicaVersion returns a malloc'd string that we copy and free once.
    let lept = unsafe {
        let p = lept::getLeptonicaVersion();
        if p.is_null() {
            String::new()
        } else {
            let s = CStr::from_ptr(p).to_string_lossy().into_owned();
            lept::lept_free(p.cast());
            s
        }
    };
    (tess, lept)
}

fn cstring(s: &str) -> Result<CString, OcrError> {
    CString::new(s).map_err(|_| OcrError::new(OcrErrorKind::Config, format!("{s:?} contains a NUL byte")))
}

/// One Tesseract engine; each thread has its own.
pub struct Api(*mut tess::TessBaseAPI);

// SAFETY: a TessBaseAPI may be used from any thread as long as one thread at a time does.
unsafe impl Send for Api {}

impl Drop for Api {
    fn drop(&mut self) {
        // SAFETY: self.0 came from TessBaseAPICreate and is deleted once.
        unsafe {
            tess::TessBaseAPIEnd(self.0);
            tess::TessBaseAPIDelete(self.0);
        }
    }
}

/// Orientation found by OSD: clockwise degrees the page is turned, and confidence.
#[derive(Debug, Clone, Copy)]
pub struct Orientation {
    pub degrees: i32,
    pub confidence: f32,
}

impl Api {
    /// An engine for `languages` (e.g. `eng+cym`, or `osd`) from the default tessdata.
    pub fn new(languages: &str, osd_only: bool) -> Result<Self, OcrError> {
        let lang = cstring(languages)?;
        // SAFETY: create returns a fresh handle (wrapped at once so it is freed on error).
        let api = Self(unsafe { tess::TessBaseAPICreate() });
        // SAFETY: handle is live; lang outlives the call; null datapath = default tessdata.
        if unsafe { tess::TessBaseAPIInit3(api.0, ptr::null(), lang.as_ptr()) } != 0 {
            return Err(OcrError::new(
                OcrErrorKind::Config,
                format!("Tesseract cannot load language(s) {languages:?}: is the traineddata installed?"),
            ));
        }
        let mode = if osd_only { tess::TessPageSegMode_PSM_OSD_ONLY } else { tess::TessPageSegMode_PSM_AUTO };
        // SAFETY: handle is live.
        unsafe { tess::TessBaseAPISetPageSegMode(api.0, mode) };
        Ok(api)
    }

    /// Sets a Tesseract variable.
    pub fn set_variable(&mut self, name: &str, value: &str) -> Result<(), OcrError> {
        let (n, v) = (cstring(name)?, cstring(value)?);
        // SAFETY: handle is live; both strings outlive the call.
        if unsafe { tess::TessBaseAPISetVariable(self.0, n.as_ptr(), v.as_ptr()) } == 0 {
            return Err(OcrError::new(OcrErrorKind::Config, format!("unknown Tesseract variable {name}")));
        }
        Ok(())
    }

    /// Gives the engine a page (Tesseract takes its own copy) and its resolution.
    pub fn set_page(&mut self, pix: &Pix, ppi: i32) {
        // SAFETY: handle and pix are live; SetImage2 clones the pix.
        unsafe {
            tess::TessBaseAPISetImage2(self.0, pix.0);
            tess::TessBaseAPISetSourceResolution(self.0, ppi);
        }
    }

    /// Names the page image file that the renderers embed (and hOCR cites).
    pub fn set_input_name(&mut self, input_name: &str) -> Result<(), OcrError> {
        let name = cstring(input_name)?;
        // SAFETY: handle is live; the name is copied.
        unsafe { tess::TessBaseAPISetInputName(self.0, name.as_ptr()) };
        Ok(())
    }

    /// Detects the page's orientation (engine made with `osd_only`).
    pub fn detect_orientation(&mut self) -> Option<Orientation> {
        let (mut deg, mut conf, mut script_conf): (c_int, f32, f32) = (0, 0.0, 0.0);
        let mut script: *const c_char = ptr::null();
        // SAFETY: handle is live with an image set; out pointers are to live locals;
        // the script name points into Tesseract's static tables and is not freed.
        let ok = unsafe {
            tess::TessBaseAPIDetectOrientationScript(self.0, &mut deg, &mut conf, &mut script, &mut script_conf)
        };
        (ok != 0).then_some(Orientation { degrees: deg, confidence: conf })
    }

    /// Recognises the page set with [`Api::set_page`].
    pub fn recognize(&mut self) -> Result<(), OcrError> {
        // SAFETY: handle is live; a null monitor means no progress callback or deadline.
        if unsafe { tess::TessBaseAPIRecognize(self.0, ptr::null_mut()) } != 0 {
            return Err(OcrError::corrupt("Tesseract could not recognise the page"));
        }
        Ok(())
    }

    /// Word count and mean word confidence of the last recognition.
    pub fn word_stats(&mut self) -> (u32, u32) {
        // SAFETY: handle is live; the array is -1 terminated and freed once with TessDeleteIntArray.
        unsafe {
            let arr = tess::TessBaseAPIAllWordConfidences(self.0);
            if arr.is_null() {
                return (0, 0);
            }
            let (mut n, mut sum) = (0u32, 0u64);
            while *arr.add(n as usize) >= 0 {
                sum += *arr.add(n as usize) as u64;
                n += 1;
            }
            tess::TessDeleteIntArray(arr);
            let mean = if n == 0 { 0 } else { (sum / n as u64) as u32 };
            (n, mean)
        }
    }

    /// True when the last recognition found its blocks upright and most text
    /// lines wider than tall. Tesseract reads a page turned 90° well by laying
    /// its lines out sideways while the image stays turned, which the second test catches.
    pub fn lines_upright(&mut self) -> bool {
        // SAFETY: handle is live after a recognition; the iterator is checked for
        // null, only read through its page-iterator view, and deleted once.
        unsafe {
            let it = tess::TessBaseAPIGetIterator(self.0);
            if it.is_null() {
                return true;
            }
            let page = tess::TessResultIteratorGetPageIterator(it);
            let (mut wide, mut tall, mut turned_block) = (0u32, 0u32, false);
            let line = tess::TessPageIteratorLevel_RIL_TEXTLINE;
            let (mut left, mut top, mut right, mut bottom) = (0, 0, 0, 0);
            // BoundingBox fails where there is no line (an empty page), before Orientation reads a null block.
            while tess::TessPageIteratorBoundingBox(page, line, &mut left, &mut top, &mut right, &mut bottom) != 0 {
                if right - left >= bottom - top {
                    wide += 1
                } else {
                    tall += 1
                }
                let (mut orientation, mut direction, mut order, mut deskew) = (0, 0, 0, 0.0f32);
                tess::TessPageIteratorOrientation(page, &mut orientation, &mut direction, &mut order, &mut deskew);
                turned_block |= orientation != tess::TessOrientation_ORIENTATION_PAGE_UP;
                if tess::TessPageIteratorNext(page, line) == 0 {
                    break;
                }
            }
            tess::TessResultIteratorDelete(it);
            !turned_block && wide > tall
        }
    }

    fn datapath(&self) -> Result<CString, OcrError> {
        // SAFETY: handle is live; the returned string is owned by the API and copied here.
        let p = unsafe { tess::TessBaseAPIGetDatapath(self.0) };
        if p.is_null() {
            return Err(OcrError::new(OcrErrorKind::Config, "Tesseract has no data path"));
        }
        // SAFETY: p is a NUL-terminated string owned by the live API.
        Ok(unsafe { CStr::from_ptr(p) }.to_owned())
    }
}

/// A chain of Tesseract renderers: PDF (image + invisible text) → hOCR → text.
pub struct Renderers(*mut tess::TessResultRenderer);

// SAFETY: the renderer chain is used by one thread at a time, behind a mutex.
unsafe impl Send for Renderers {}

impl Drop for Renderers {
    fn drop(&mut self) {
        // SAFETY: deleting the head deletes the whole chain (each renderer owns its next).
        unsafe { tess::TessDeleteResultRenderer(self.0) }
    }
}

impl Renderers {
    /// Opens `<base>.pdf`, `<base>.hocr` and `<base>.txt`; `api` gives the tessdata path (for pdf.ttf).
    pub fn begin(base: &str, api: &Api, title: &str) -> Result<Self, OcrError> {
        let base = cstring(base)?;
        let datadir = api.datapath()?;
        let title = cstring(title)?;
        // SAFETY: strings outlive the calls (renderers copy them); each created
        // renderer is handed to the chain, whose head we own and delete once.
        unsafe {
            let pdf = tess::TessPDFRendererCreate(base.as_ptr(), datadir.as_ptr(), 0);
            if pdf.is_null() {
                return Err(OcrError::new(OcrErrorKind::Io, "cannot create the PDF renderer"));
            }
            let chain = Self(pdf);
            let hocr = tess::TessHOcrRendererCreate(base.as_ptr());
            let text = tess::TessTextRendererCreate(base.as_ptr());
            if hocr.is_null() || text.is_null() {
                return Err(OcrError::new(OcrErrorKind::Io, "cannot create the hOCR or text renderer"));
            }
            tess::TessResultRendererInsert(chain.0, hocr);
            tess::TessResultRendererInsert(chain.0, text);
            if tess::TessResultRendererBeginDocument(chain.0, title.as_ptr()) == 0 {
                return Err(OcrError::new(OcrErrorKind::Io, "cannot open the renderer outputs"));
            }
            Ok(chain)
        }
    }

    /// Adds the page `api` last recognised.
    pub fn add(&mut self, api: &mut Api) -> Result<(), OcrError> {
        // SAFETY: both handles are live; the renderer reads the API's results and input image.
        if unsafe { tess::TessResultRendererAddImage(self.0, api.0) } == 0 {
            return Err(OcrError::new(OcrErrorKind::Io, "a renderer could not add the page"));
        }
        Ok(())
    }

    /// Finishes and closes the outputs.
    pub fn end(self) -> Result<(), OcrError> {
        // SAFETY: the chain is live; it is deleted by Drop afterwards.
        if unsafe { tess::TessResultRendererEndDocument(self.0) } == 0 {
            return Err(OcrError::new(OcrErrorKind::Io, "the renderers could not finish the outputs"));
        }
        Ok(())
    }
}
