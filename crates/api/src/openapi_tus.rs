//! The tus 1.0 operations at `/v1/uploads`, for the OpenAPI document. The
//! routes themselves are `exhibit_tus::router`, which has no handlers of
//! the API's to annotate; [`TusOperations`] writes them into the document
//! with [`Op`], a small builder that knows what they share: the bearer
//! token, `Tus-Resumable`, the upload's ID, and the answers every request
//! about one upload may get. Every error is the JSON [`ErrorBody`](crate::ErrorBody) (bad
//! `Upload-Metadata` adds `key`: `case`, `exhibit` or `filename`), but
//! HEAD's, which have no body.

use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, PartialSchema};

/// The collection: creation and what the server offers.
const UPLOADS: &str = "/v1/uploads";
/// One upload.
const UPLOAD: &str = "/v1/uploads/{id}";
/// What a tus upload's ID is: 32 lowercase hex digits.
const UPLOAD_ID_PATTERN: &str = "^[0-9a-f]{32}$";
/// The tag the annotated operations of this module had.
const TAG: &str = "crate::openapi_tus";

/// What every request about one upload may be answered, beside its own.
const ABOUT_ONE_UPLOAD: [(u16, &str); 4] = [
    (401, "No valid token"),
    (404, "No such upload, or not your organisation's"),
    (412, "Not tus 1.0.0"),
    (503, "This server takes no uploads, or is stopping (resume once it is back)"),
];

/// A request that changes an upload held by another that does not let go
/// in time (the completion hook's ingest). HEAD is never 423.
const BUSY: (u16, &str) = (423, "Busy with another request (an ingest): retry after Retry-After");

/// Adds the tus operations to the document.
pub(crate) struct TusOperations;

impl Modify for TusOperations {
    fn modify(&self, doc: &mut OpenApi) {
        let operations = [
            (UPLOADS, HttpMethod::Post, create()),
            (UPLOADS, HttpMethod::Options, describe(Op::new("describe", OFFERS))),
            (UPLOAD, HttpMethod::Head, head()),
            (UPLOAD, HttpMethod::Patch, patch()),
            (UPLOAD, HttpMethod::Delete, terminate()),
            (UPLOAD, HttpMethod::Options, describe(Op::new("describe_one", OFFERS_ONE).upload_id("The upload's ID"))),
        ];
        for (path, method, operation) in operations {
            doc.paths.add_path_operation(path, vec![method], operation);
        }
    }
}

const CREATES: &str = concat!(
    "Creates an upload (tus creation). `Upload-Metadata` must carry `case`,\n",
    "`exhibit` and `filename` (base64); `case` names a case of your own\n",
    "organisation (else 404; a shared case takes no uploads) and your role\n",
    "must be a submitter's or admin's (else 403).",
);

fn create() -> Operation {
    Op::new("create", CREATES)
        .bearer()
        .tus_resumable()
        .header("Upload-Length", "The file's length in bytes")
        .header("Upload-Metadata", "case BASE64,exhibit BASE64,filename BASE64")
        .answer(201, "Created; Location names the upload")
        .errors(&[
            (400, "Bad Upload-Length or Upload-Metadata"),
            (401, "No valid token"),
            (403, "Your role may not submit evidence"),
            (404, "No such case, or not yours to upload to"),
            (412, "Not tus 1.0.0"),
            (413, "Upload-Length over Tus-Max-Size"),
            (429, "Too many unfinished uploads"),
            (503, "This server takes no uploads"),
        ])
        .build()
}

const OFFERS: &str = "What the server offers: version, extensions, largest upload.";
const OFFERS_ONE: &str = "What the server offers, asked of one upload.";

/// OPTIONS, which clients ask before they send credentials: no token.
fn describe(op: Op) -> Operation {
    op.open()
        .answer(204, "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")
        .errors(&[(503, "This server takes no uploads")])
        .build()
}

fn head() -> Operation {
    Op::new(
        "head",
        "The upload's offset (where to resume): the bytes kept and saved. A PATCH still receiving is asked to let go first.",
    )
        .bearer()
        .upload_id("The upload's ID (32 hex digits)")
        .tus_resumable()
        .answer(200, "Upload-Offset and Upload-Length")
        .answer(410, "Expired")
        .answers(&ABOUT_ONE_UPLOAD)
        .build()
}

fn patch() -> Operation {
    Op::new(
        "patch",
        "Appends bytes at `Upload-Offset`; the last chunk ingests the file. A PATCH still receiving is asked to let go first.",
    )
        .bearer()
        .upload_id("The upload's ID (32 hex digits)")
        .tus_resumable()
        .header("Upload-Offset", "Where these bytes go")
        .optional_header("Upload-Checksum", "sha256 BASE64 of this chunk")
        .bytes("application/offset+octet-stream")
        .answer(204, "Kept; Upload-Offset is the new offset")
        .errors(&ABOUT_ONE_UPLOAD)
        .errors(&[BUSY])
        .errors(&[
            (400, "Bad headers"),
            (403, "Your role may not submit evidence"),
            (409, "Upload-Offset is not the upload's offset"),
            (410, "Expired"),
            (413, "Past the upload's length or the chunk limit"),
            (415, "Not application/offset+octet-stream"),
            (429, "This token has as many uploads running as it may"),
            (460, "Upload-Checksum mismatch: the chunk was discarded and recorded"),
            (500, "The ingest failed: the upload stays staged and is retried"),
        ])
        .build()
}

fn terminate() -> Operation {
    Op::new("terminate", "Terminates an upload, removing its bytes.")
        .bearer()
        .upload_id("The upload's ID (32 hex digits)")
        .tus_resumable()
        .answer(204, "Removed")
        .errors(&ABOUT_ONE_UPLOAD)
        .errors(&[BUSY])
        .errors(&[(403, "Your role may not submit evidence, so may not discard an upload")])
        .build()
}

/// One operation as the tus routes answer it.
struct Op(OperationBuilder);

impl Op {
    fn new(id: &str, summary: &str) -> Self {
        Self(OperationBuilder::new().operation_id(Some(id)).summary(Some(summary)).tag(TAG))
    }

    /// Needs the bearer token.
    fn bearer(self) -> Self {
        Self(self.0.security(SecurityRequirement::new("bearer", Vec::<String>::new())))
    }

    /// Needs no token.
    fn open(self) -> Self {
        Self(self.0.security(SecurityRequirement::default()))
    }

    fn upload_id(self, description: &str) -> Self {
        let id = ObjectBuilder::new().schema_type(Type::String).pattern(Some(UPLOAD_ID_PATTERN)).build();
        self.parameter(ParameterIn::Path, "id", description, Required::True, Schema::Object(id).into())
    }

    fn tus_resumable(self) -> Self {
        self.header("Tus-Resumable", "1.0.0")
    }

    fn header(self, name: &str, description: &str) -> Self {
        self.parameter(ParameterIn::Header, name, description, Required::True, String::schema())
    }

    /// A header the client may leave out: a nullable string, as utoipa
    /// writes an `Option<String>`.
    fn optional_header(self, name: &str, description: &str) -> Self {
        let nullable = ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null])).into();
        self.parameter(ParameterIn::Header, name, description, Required::False, nullable)
    }

    fn parameter(
        self,
        place: ParameterIn,
        name: &str,
        description: &str,
        required: Required,
        schema: RefOr<Schema>,
    ) -> Self {
        let parameter = ParameterBuilder::new()
            .parameter_in(place)
            .name(name)
            .description(Some(description))
            .required(required)
            .schema(Some(schema));
        Self(self.0.parameter(parameter))
    }

    /// A body of raw bytes of this media type.
    fn bytes(self, content_type: &str) -> Self {
        let content = ContentBuilder::new().schema(Some(crate::dto::Binary::schema())).build();
        let body = RequestBodyBuilder::new().content(content_type, content).required(Some(Required::True)).build();
        Self(self.0.request_body(Some(body)))
    }

    /// An answer without a body.
    fn answer(self, status: u16, description: &str) -> Self {
        Self(self.0.response(status.to_string(), ResponseBuilder::new().description(description).build()))
    }

    fn answers(self, answers: &[(u16, &str)]) -> Self {
        answers.iter().fold(self, |op, (status, description)| op.answer(*status, description))
    }

    /// Error answers, each the JSON [`ErrorBody`](crate::ErrorBody).
    fn errors(self, errors: &[(u16, &str)]) -> Self {
        errors.iter().fold(self, |Self(op), (status, description)| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response = ResponseBuilder::new().description(*description).content("application/json", content);
            Self(op.response(status.to_string(), response.build()))
        })
    }

    fn build(self) -> Operation {
        self.0.build()
    }
}
