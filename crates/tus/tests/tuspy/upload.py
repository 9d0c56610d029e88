"""Uploads one file to the exhibit tus endpoint with tuspy (the real client).

Resumable: the upload URL is kept in --store (tuspy's FileStorage), so a
second run with the same --store resumes where the server says the first
stopped. Prints `start N` (the offset it starts from), `url U`, one
`offset N` per chunk and `done`; on a refused chunk prints `failed STATUS`
and exits 3. --wrong-checksum sends a SHA-256 of other bytes with every chunk.
"""

import argparse
import hashlib
import sys

from tusclient import client
from tusclient.exceptions import TusUploadFailed
from tusclient.storage import filestorage
from tusclient.uploader import Uploader


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


class WrongChecksumUploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", lambda data: hashlib.sha256(b"not " + data))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--chunk-size", type=int, default=16 << 20)
    parser.add_argument("--case", required=True)
    parser.add_argument("--exhibit", required=True)
    parser.add_argument("--filename", required=True)
    parser.add_argument("--no-checksum", action="store_true")
    parser.add_argument("--wrong-checksum", action="store_true")
    args = parser.parse_args()

    tus = client.TusClient(args.endpoint, headers={"Authorization": "Bearer " + args.token})
    uploader_class = WrongChecksumUploader if args.wrong_checksum else Sha256Uploader
    uploader = uploader_class(
        file_path=args.file,
        client=tus,
        chunk_size=args.chunk_size,
        metadata={"case": args.case, "exhibit": args.exhibit, "filename": args.filename},
        store_url=True,
        url_storage=filestorage.FileStorage(args.store),
        upload_checksum=not args.no_checksum,
        retries=0,
    )
    print(f"start {uploader.offset if uploader.url else 0}", flush=True)
    if not uploader.url:
        uploader.set_url(uploader.create_url())
        uploader.offset = 0
    print(f"url {uploader.url}", flush=True)
    size = uploader.get_file_size()
    uploader.stop_at = size
    try:
        while uploader.offset < size:
            uploader.upload_chunk()
            print(f"offset {uploader.offset}", flush=True)
    except TusUploadFailed as error:
        print(f"failed {error.status_code}", flush=True)
        sys.exit(3)
    print("done", flush=True)


if __name__ == "__main__":
    main()
