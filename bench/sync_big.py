"""Big files through `sfs sync --once`: throughput, deltas, and resuming a killed upload.

Called by `sync_bench` (scenarios `large`, `delta` and `resume`).

- large: a random file of --big-mib uploaded by one pass, then downloaded by another pass into
  an empty folder of the same account (checked byte for byte), MiB/s next to `cp FILE COPY &&
  sync` on the same disk;
- delta: three edits of that file in device A's folder, each synced A → server → B (the same
  user's second device, holding the previous version), every byte of both devices'
  connections counted both ways, next to `rsync --stats --no-whole-file` onto an rsync daemon
  on 127.0.0.1 holding the previous version (sent + received): 1 MiB inserted in the middle,
  1 MiB appended, 4 KiB overwritten in place;
- resume: a random file of --resume-mib uploaded by `sfs sync --once` through a relay that
  counts bytes, SIGKILLed once the server's blob folder has grown by --resume-at of the file
  (mode "stored": the kill lands just after a batch was stored), and again as the first batch
  begins after that much crossed the wire (mode "wire"; loopback's socket buffers often take
  the whole batch, which the kernel still delivers after the kill), and the same over a relay
  throttled to --resume-slow-mib-s (mode "slow": the client dies mid-batch); then a second
  pass at full speed. What went twice: held chunks the second pass sent again (its bytes_sent
  next to what the server still lacked), pass 1's bytes in flight and lost, and both passes'
  wire bytes next to an uninterrupted upload of the same file.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bench.sync_loopback import CountingRelay, RsyncDaemon
from bench.sync_support import (
    SFS,
    MiB,
    SfsServer,
    blocks,
    check_free_space,
    file_sha256,
    new_account,
    new_device,
    sync_once,
    timed,
    wait_for,
    write_random,
)
from sfs.client.sync.remote import SyncApi
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import iter_chunks

BATCH_BYTES = 6 * MiB  # the client's chunk batch (sfs.client.sync.sender.BATCH_BYTES)
FRAME_OVERHEAD = 36  # id and length before each chunk in a batch
# An httpx POST's request line and headers to sfs, less its bearer token: measured 249 B for a
# chunk batch and 243 B for a "which are missing?" question with 2-digit Content-Lengths; here
# they run to 5-7 digits.
REQUEST_HEAD = 250
# One chunk id in a "which are missing?" body: httpx sends compact JSON, `"<64 hex digits>",`.
ID_IN_QUESTION = 67


def big_file(work: Path, server: SfsServer, mib: int, *, large: bool, delta: bool) -> None:
    size = mib * MiB
    check_free_space(work, 5 * size, "the large/delta scenarios")
    account = new_account(server, work, "big")
    folder = work / "big-a"
    folder.mkdir()
    source = folder / "big.bin"
    write_random(source, size)
    os.sync()
    copy = work / "big-copy.bin"
    cp_rate = mib / timed(["sh", "-c", f"cp {shlex.quote(str(source))} {copy} && sync"])
    copy.unlink()
    up = sync_once(folder, account)
    assert up.summary["uploaded"] == 1 and up.summary["failed"] == 0, up.summary
    up_rate = mib / up.elapsed
    print(
        f"large file   {mib} MiB up:   sfs {up_rate:6.1f} MiB/s ({up.elapsed:.1f} s)"
        f"   cp+sync {cp_rate:6.1f} MiB/s   ratio {up_rate / cp_rate:.2f}"
        f"   (client peak RSS {up.peak_rss_mib:.0f} MiB)"
    )
    if large:
        target = work / "big-b"
        down = sync_once(target, account)
        assert down.summary["downloaded"] == 1, down.summary
        assert file_sha256(target / "big.bin") == file_sha256(source), "download differs"
        down_rate = mib / down.elapsed
        print(
            f"large file   {mib} MiB down: sfs {down_rate:6.1f} MiB/s ({down.elapsed:.1f} s)"
            f"   cp+sync {cp_rate:6.1f} MiB/s   ratio {down_rate / cp_rate:.2f}"
            f"   (client peak RSS {down.peak_rss_mib:.0f} MiB)"
        )
        shutil.rmtree(target)
    if delta:
        _deltas(work, server, source, mib)
    shutil.rmtree(folder)


def _deltas(work: Path, server: SfsServer, source: Path, mib: int) -> None:
    """Each edit made in device A's folder, synced A → server → B (B, the same user's second
    device, holds the previous version), every byte of both devices' connections counted in
    both directions; next to rsync pushing the same edit onto a daemon holding the previous
    version, both directions counted as `--stats` does. rsync goes from A to B directly: a
    path through a server carries the new bytes twice (up from A, down to B), so "2x rsync"
    (rsync to the server, then from it) is printed too."""
    relay = CountingRelay(server.port)
    daemon = RsyncDaemon(work / "rsync-module")
    device_a, device_b = work / "delta-a", work / "delta-b"
    try:
        account = new_account(server, work, "delta", server_url=relay.url)
        second = new_device(server, work, account, "delta-b", server_url=relay.url)
        device_a.mkdir()
        device_b.mkdir()
        edited = device_a / "big.bin"
        shutil.copyfile(source, edited)
        shutil.copyfile(source, daemon.folder / "big.bin")  # the other side's previous version
        first = sync_once(device_a, account)
        assert first.summary["uploaded"] == 1, first.summary
        first_down = sync_once(device_b, second)
        assert first_down.summary["downloaded"] == 1, first_down.summary
        relay.take_both()
        edits = [
            ("1 MiB inserted in the middle", _insert_middle),
            ("1 MiB appended", _append),
            ("4 KiB overwritten in place", _overwrite),
        ]
        for label, edit in edits:
            edit(edited, work / "edit.bin")
            up = sync_once(device_a, account)
            assert up.summary["uploaded"] == 1 and up.summary["failed"] == 0, up.summary
            a_sent, a_received, a_requests = relay.take_both()
            down = sync_once(device_b, second)
            assert down.summary["downloaded"] == 1 and down.summary["failed"] == 0, down.summary
            b_sent, b_received, b_requests = relay.take_both()
            assert file_sha256(device_b / "big.bin") == file_sha256(edited), "B's copy differs"
            rsync_sent, rsync_received = daemon.send_both(edited, "big.bin")
            sfs_total = a_sent + a_received + b_sent + b_received
            rsync_total = rsync_sent + rsync_received
            print(
                f"delta        {label} of {mib} MiB, A → server → B: sfs {sfs_total:,} B"
                f"   rsync {rsync_total:,} B   ratio {sfs_total / rsync_total:.2f}"
                f"   (vs 2x rsync {sfs_total / (2 * rsync_total):.2f})"
            )
            print(
                f"             A sent {a_sent:,} B, received {a_received:,} B"
                f" ({a_requests} requests; {up.summary['bytes_sent']:,} B of chunks,"
                f" {up.elapsed:.1f} s)   B sent {b_sent:,} B, received {b_received:,} B"
                f" ({b_requests} requests; {down.summary['bytes_received']:,} B of chunks,"
                f" {down.elapsed:.1f} s)   rsync sent {rsync_sent:,} B,"
                f" received {rsync_received:,} B"
            )
    finally:
        daemon.stop()
        relay.close()
        shutil.rmtree(daemon.folder, ignore_errors=True)
        shutil.rmtree(device_a, ignore_errors=True)
        shutil.rmtree(device_b, ignore_errors=True)


def _insert_middle(path: Path, scratch: Path) -> None:
    insert_at(path, scratch, path.stat().st_size // 2)


def insert_at(path: Path, scratch: Path, offset: int, data: bytes | None = None) -> None:
    """`data` (1 MiB of random bytes by default) inserted into the file at `offset`, written
    through `scratch` and renamed over it."""
    with path.open("rb") as reading, scratch.open("wb") as writing:
        remaining = offset
        while remaining:
            block = reading.read(min(16 * MiB, remaining))
            writing.write(block)
            remaining -= len(block)
        writing.write(os.urandom(MiB) if data is None else data)
        shutil.copyfileobj(reading, writing, 16 * MiB)
    os.replace(scratch, path)


def _append(path: Path, _scratch: Path) -> None:
    with path.open("ab") as handle:
        handle.write(os.urandom(MiB))


def _overwrite(path: Path, _scratch: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 3 + 1234)
        handle.write(os.urandom(4096))


def resume(
    work: Path,
    server: SfsServer,
    mib: int,
    at: float,
    modes: Sequence[str],
    slow_mib_s: float = 8.0,
) -> None:
    size = mib * MiB
    check_free_space(work, 4 * size, "the resume scenario")
    original = work / "resume-original.bin"
    write_random(original, size)
    os.sync()
    relay = CountingRelay(server.port)
    try:
        clean = new_account(server, work, "resume-clean", server_url=relay.url)
        folder = work / "resume-clean"
        folder.mkdir()
        os.link(original, folder / "big.bin")
        relay.take()
        whole = sync_once(folder, clean)
        assert whole.summary["uploaded"] == 1, whole.summary
        wire_clean = relay.take()
        print(
            f"resume       {mib} MiB uninterrupted upload: {whole.elapsed:.1f} s,"
            f" {whole.summary['bytes_sent']:,} B of chunks, {wire_clean:,} B on the wire"
        )
        for mode in modes:
            _killed_upload(work, server, relay, original, mode, at, wire_clean, slow_mib_s)
    finally:
        relay.close()
        original.unlink(missing_ok=True)


def _killed_upload(
    work: Path,
    server: SfsServer,
    relay: CountingRelay,
    original: Path,
    mode: str,
    at: float,
    wire_clean: int,
    slow_mib_s: float,
) -> None:
    """One upload killed (SIGKILL) when `at` of the file is stored on the server (mode
    "stored": just after a batch landed), or when the first chunk batch begun after that much
    had crossed the wire is seen (mode "wire"; mode "slow" likewise, over a relay throttled to
    `slow_mib_s`, so the client is surely still writing that batch when it dies); then a second
    pass at full speed. What went twice."""
    size = original.stat().st_size
    account = new_account(server, work, f"resume-{mode}", server_url=relay.url)
    folder = work / f"resume-{mode}"
    folder.mkdir()
    os.link(original, folder / "big.bin")
    relay.take()
    relay.rate = slow_mib_s * MiB if mode == "slow" else None
    before = server.blob_bytes()
    client = subprocess.Popen(
        [SFS, "sync", str(folder), "--once"],
        env=account.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def far_enough() -> bool:
            if client.poll() is not None:
                raise RuntimeError("the client finished before it could be killed")
            if mode in ("wire", "slow"):  # the first batch begun past the mark
                return relay.marker_at >= at * size
            return server.blob_bytes() - before >= at * size

        wait_for(far_enough, 3600, f"{at:.0%} of the file {mode}", pause=0.002)
    finally:
        client.kill()  # SIGKILL
        client.wait()
    killed_stored, killed_sent = server.blob_bytes() - before, relay.peek()
    _wait_until_stable(server)
    _wait_until_closed(relay)
    requests_first = relay.requests
    wire_first = relay.take()  # once the relay has passed on what the kernel still held
    relay.rate = None
    _wait_until_stable(server)
    stored = server.blob_bytes() - before
    held, held_chunks, chunks = _held_by_server(server, account.token, folder / "big.bin")
    second = sync_once(folder, account)
    assert second.summary["uploaded"] == 1 and second.summary["failed"] == 0, second.summary
    wire_second = relay.take()
    mean = size / chunks
    again = second.summary["bytes_sent"] - (size - held)
    # Pass 1 on the wire: the held chunks, their framing and the questions about them, and
    # what was in flight when it died (plus a few KiB of headers and small requests).
    lost = wire_first - held - held_chunks * (FRAME_OVERHEAD + ID_IN_QUESTION)
    headers = requests_first * (REQUEST_HEAD + len(account.token))
    in_flight = max(0, lost - headers)  # an estimate: request heads vary by a few bytes
    extra = wire_first + wire_second - wire_clean
    when = {
        "stored": "stored",
        "wire": "crossed the wire and a batch began",
        "slow": f"crossed a {slow_mib_s:g} MiB/s link and a batch began",
    }[mode]
    print(
        f"resume       killed when {at:.0%} {when}: just after the kill {killed_sent:,} B"
        f" had crossed the wire and the blob folder had grown {killed_stored:,} B; once settled"
        f" {wire_first:,} B and {stored:,} B"
    )
    print(
        f"             server held {held_chunks}/{chunks} chunks, {held:,} B ({held / size:.1%});"
        f" mean chunk {mean / 1024:.1f} KiB"
    )
    print(
        f"             second pass ({second.elapsed:.1f} s) sent {second.summary['bytes_sent']:,} B"
        f" of chunks for {size - held:,} B missing: held chunks sent again {again:,} B"
    )
    print(
        f"             pass 1 bytes on the wire not accounted for by held chunks: {lost:,} B,"
        f" of which ≈{headers:,} B request heads ({requests_first} requests):"
        f" in flight at the kill and lost ≈{in_flight:,} B = {in_flight / mean:.1f}"
        f" mean chunks = {in_flight / BATCH_BYTES:.2f} batches"
    )
    print(
        f"             re-sent in all (chunk bytes of both passes minus the file)"
        f" ≈{again + in_flight:,} B = {(again + in_flight) / mean:.1f} mean chunks"
        f" (goal ≤ 1 chunk)"
    )
    print(
        f"             wire: killed pass {wire_first:,} B + second {wire_second:,} B"
        f" = uninterrupted + {extra:,} B ({extra / mean:.1f} mean chunks)"
    )
    shutil.rmtree(folder)


def _wait_until_closed(relay: CountingRelay) -> None:
    wait_for(lambda: relay.open_connections() == 0, 30, "the relay's connections to close")


def _wait_until_stable(server: SfsServer, quiet: float = 1.0) -> None:
    """Until the blob folder has not grown for `quiet` seconds (a batch whose body had fully
    arrived before the kill is still stored)."""
    last, since = server.blob_bytes(), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.1)
        now = server.blob_bytes()
        if now != last:
            last, since = now, time.monotonic()


def _held_by_server(server: SfsServer, token: str, path: Path) -> tuple[int, int, int]:
    """(bytes, chunks) of the file's chunks the server holds, and the file's chunk count."""
    with SyncApi(server.base_url, token=token) as api:
        chunking = api.chunking()
        pieces = [
            (chunk_id(chunking.chunk_id_key, piece), len(piece))
            for piece in iter_chunks(
                blocks(path), chunking.sizes.for_size(path.stat().st_size), seed=chunking.seed
            )
        ]
        missing = api.missing_chunks(piece for piece, _ in pieces)
    held = [(piece, length) for piece, length in pieces if piece not in missing]
    return sum(length for _, length in held), len(held), len(pieces)
