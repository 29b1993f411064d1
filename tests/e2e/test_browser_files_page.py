"""The Files page in Debian's Chromium against a real `sfs serve`, at 1,280 and 390 px: it never
scrolls sideways (a 255-character name, a folder of 1,000 files), folders arrive by drag and
drop, a selection downloads as one ZIP, thumbnails show, columns sort, names are found, and a
Viewer of a team folder browses it without any way to upload.

Screenshots of the page at both widths are saved under `test-artifacts/` (git-ignored).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from sfs.domain.actor import Actor
from sfs.metadata.models import User
from sfs.services.identity.actors import actor_of
from tests.e2e.browser_support import Portal, log_in, new_user
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
LONG_NAME = ("Quarterly report " * 20)[:251] + ".pdf"  # 255 characters


def member(portal: Portal, email: str) -> Actor:
    with portal.services.database.transaction() as session:
        row = session.query(User).filter(User.email == email).one()
        return actor_of(row)


def put(portal: Portal, who: Actor, path: str, data: bytes, space: uuid.UUID | None = None) -> None:
    services = portal.services
    space_id = space or services.spaces.my_files(who).id
    parts = [part for part in path.split("/")[:-1] if part]
    levels = ["/" + "/".join(parts[: n + 1]) for n in range(len(parts))]
    if levels:
        services.file_tree.create_folders(who, space_id=space_id, paths=levels, client=CLIENT)
    services.file_content.upload(
        who,
        space_id=space_id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def no_sideways_scroll(page: Page) -> None:
    width, inner, culprits = page.evaluate(
        """() => [
          document.documentElement.scrollWidth,
          window.innerWidth,
          Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5)
            .map((e) => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`),
        ]"""
    )
    assert width <= inner, f"{page.url} is {width} px wide in {inner} px: {culprits}"


def test_the_page_holds_at_both_widths_with_a_long_name_and_a_thousand_files(
    page: Page, portal: Portal
) -> None:
    email, _ = new_user(portal)
    me = member(portal, email)
    put(portal, me, f"/{LONG_NAME}", b"%PDF-1.4 long")
    put(portal, me, "/" + "F" * 255 + "/inside.txt", b"inside")
    put(portal, me, "/photo.png", png(400, 300))
    space_id = portal.services.spaces.my_files(me).id
    portal.services.file_tree.create_folders(me, space_id=space_id, paths=["/Many"], client=CLIENT)
    for n in range(1000):
        put(portal, me, f"/Many/file {n:04d}.txt", b"same content")
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, email, GOOD_PASSWORD)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/files")
        long_link = page.get_by_role("link", name=LONG_NAME, exact=True)
        expect(long_link).to_have_attribute("title", LONG_NAME)
        # the name is cut with an ellipsis inside its cell, not allowed to widen the page
        assert long_link.evaluate("e => e.scrollWidth > e.clientWidth")
        expect(page.locator("img.thumb")).to_have_count(1)
        # the thumbnail, 64 px made from the decrypted image, shown at 32 CSS px
        page.wait_for_function(
            "() => { const i = document.querySelector('img.thumb');"
            " return i && i.complete && i.naturalWidth === 64; }"
        )
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / f"files-{label}.png"), full_page=False)
        page.goto("/files/Many")
        expect(page.get_by_text("1\N{EN DASH}200 of 1000")).to_be_visible()
        expect(page.locator("tr.entry")).to_have_count(200)
        no_sideways_scroll(page)
        page.screenshot(path=str(ARTIFACTS / f"files-1000-{label}.png"), full_page=False)
        page.goto("/files/" + "F" * 255)
        no_sideways_scroll(page)
        # the row menu opens inside the page, too
        page.goto("/files")
        page.locator("tr.entry", has_text="photo.png").locator("summary").click()
        expect(page.get_by_role("link", name="Versions photo.png")).to_be_visible()
        no_sideways_scroll(page)


def test_sorting_and_searching(page: Page, portal: Portal) -> None:
    email, _ = new_user(portal)
    me = member(portal, email)
    put(portal, me, "/small.txt", b"s")
    put(portal, me, "/Large.txt", b"l" * 5000)
    put(portal, me, "/Deep/Down/large plan.odt", b"plan")
    log_in(page, email, GOOD_PASSWORD)
    page.goto("/files")
    names = page.locator("tr.entry a.entry-name")
    expect(names).to_have_text(["Deep (folder)", "Large.txt", "small.txt"])
    page.get_by_role("link", name="Size").click()
    expect(names).to_have_text(["Deep (folder)", "small.txt", "Large.txt"])
    page.get_by_role("link", name="Size").click()
    expect(page.get_by_role("columnheader", name="Size")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(names).to_have_text(["Deep (folder)", "Large.txt", "small.txt"])
    page.get_by_role("searchbox").fill("LARGE")
    page.get_by_role("button", name="Search").click()
    expect(names).to_have_text(["large plan.odt", "Large.txt"])
    expect(page.locator("tr.entry", has_text="large plan.odt")).to_contain_text("/Deep/Down")


def test_a_dropped_folder_is_uploaded_with_a_progress_bar_per_file(
    page: Page, portal: Portal, tmp_path: Path
) -> None:
    """The drop is synthetic: Chromium will not let a page build a DataTransfer of folders, so
    the test dispatches a `drop` whose dataTransfer offers the entry API (webkitGetAsEntry,
    createReader, readEntries in batches, file()) over real File objects, exactly as the page's
    script reads a real drop. The folder picker (a webkitdirectory input) is driven as well,
    with Playwright's set_input_files on a real directory."""
    email, _ = new_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    page.goto("/files")
    page.evaluate(
        """() => {
          function fileEntry(name, text) {
            const file = new File([text], name, {type: "text/plain"});
            return {name, isFile: true, isDirectory: false, file: (ok) => ok(file)};
          }
          function folderEntry(name, children) {
            return {
              name, isFile: false, isDirectory: true,
              createReader() {
                // two batches, then an empty one, as Chromium hands out big folders
                const batches = [children.slice(0, 1), children.slice(1), []];
                return {readEntries: (ok) => ok(batches.shift() || [])};
              },
            };
          }
          const tree = folderEntry("Trip", [
            fileEntry("itinerary.txt", "day 1: fly"),
            folderEntry("Photos", [fileEntry("a.txt", "A"), fileEntry("b.txt", "BB")]),
            folderEntry("Empty", []),
          ]);
          const loose = fileEntry("loose.txt", "loose");
          const transfer = {
            types: ["Files"],
            dropEffect: "none",
            items: [tree, loose].map((entry) => ({kind: "file", webkitGetAsEntry: () => entry})),
            files: [],
          };
          const target = document.querySelector(".drop-target");
          for (const type of ["dragenter", "dragover", "drop"]) {
            const event = new Event(type, {bubbles: true, cancelable: true});
            Object.defineProperty(event, "dataTransfer", {value: transfer});
            target.dispatchEvent(event);
          }
        }"""
    )
    expect(page.get_by_role("status")).to_have_text("4 files uploaded.", timeout=30_000)
    me = member(portal, email)
    services = portal.services
    space_id = services.spaces.my_files(me).id
    top = services.file_tree.list_folder(me, space_id=space_id, path="/")
    assert sorted(node.name for node in top) == ["Trip", "loose.txt"]
    trip = services.file_tree.list_folder(me, space_id=space_id, path="/Trip")
    assert sorted(node.name for node in trip) == ["Empty", "Photos", "itinerary.txt"]
    photos = services.file_tree.list_folder(me, space_id=space_id, path="/Trip/Photos")
    assert [(node.name, node.size) for node in photos] == [("a.txt", 1), ("b.txt", 2)]

    # The folder picker: a real directory, its relative paths kept.
    picked = tmp_path / "Scans"
    (picked / "2025").mkdir(parents=True)
    (picked / "2025" / "scan.txt").write_bytes(b"scan")
    (picked / "cover.txt").write_bytes(b"cover")
    with page.expect_request(lambda r: r.method == "PUT" and "/file/upload/" in r.url):
        page.get_by_label("Or a whole folder").set_input_files(picked)
    expect(page.get_by_role("status")).to_have_text("2 files uploaded.", timeout=30_000)
    scans = services.file_tree.list_folder(me, space_id=space_id, path="/Scans/2025")
    assert [node.name for node in scans] == ["scan.txt"]


def test_a_selection_downloads_as_one_zip(page: Page, portal: Portal) -> None:
    email, _ = new_user(portal)
    me = member(portal, email)
    put(portal, me, "/Team/minutes.txt", b"minutes")
    put(portal, me, "/Team/Budget/plan.ods", b"plan")
    put(portal, me, "/Team/skip.txt", b"not selected")
    log_in(page, email, GOOD_PASSWORD)
    page.goto("/files/Team")
    expect(page.get_by_text("Select files to act on several at once.")).to_be_visible()
    page.get_by_label("Select minutes.txt").check()
    page.get_by_label("Select Budget").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    with page.expect_download() as started:
        page.get_by_role("button", name="Download as ZIP").click()
    downloaded = started.value
    assert downloaded.suggested_filename == "Team.zip"
    with zipfile.ZipFile(downloaded.path()) as archive:
        assert sorted(archive.namelist()) == ["Budget/", "Budget/plan.ods", "minutes.txt"]
        assert archive.read("Budget/plan.ods") == b"plan"
    page.get_by_label("Select all").check()
    expect(page.get_by_text("3 selected")).to_be_visible()


def test_a_viewer_browses_a_team_folder_without_upload(page: Page, portal: Portal) -> None:
    email, _ = new_user(portal)
    admin = member(portal, portal.admin_email)
    services = portal.services
    folder = services.team_folders.create(admin, f"Handbook {uuid.uuid4().hex[:6]}", client=CLIENT)
    services.team_folders.set_user_role(
        admin, folder.id, portal.admin_email, "manager", client=CLIENT
    )
    services.team_folders.set_user_role(admin, folder.id, email, "viewer", client=CLIENT)
    put(portal, admin, "/Policies/leave.txt", b"leave policy", space=folder.id)
    log_in(page, email, GOOD_PASSWORD)
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/files")
        page.get_by_role("navigation", name="Spaces").get_by_role("link", name=folder.name).click()
        expect(page.get_by_text("You are a Viewer of this team folder")).to_be_visible()
        page.get_by_role("link", name="Policies (folder)").click()
        expect(page.get_by_role("navigation", name="Folder path")).to_contain_text(folder.name)
        expect(page.get_by_label("Files to upload")).to_have_count(0)
        expect(page.get_by_role("button", name="Upload")).to_have_count(0)
        page.locator("tr.entry", has_text="leave.txt").locator("summary").click()
        expect(page.get_by_role("link", name="Download leave.txt")).to_be_visible()
        expect(page.get_by_role("button", name="Delete leave.txt")).to_have_count(0)
        no_sideways_scroll(page)
    with page.expect_download() as started:
        page.get_by_role("link", name="Download leave.txt").click()
    assert Path(started.value.path()).read_bytes() == b"leave policy"
