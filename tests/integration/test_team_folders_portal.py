"""Team folders and groups in the portal, under Organisation settings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sfs.app import Services
from tests.signed_in import log_in, page_csrf_token
from tests.world import CLIENT, actor, make_tenant


def test_the_admin_creates_a_folder_and_a_group_and_sets_members(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    assert "/organisation/team-folders" in client.get("/organisation").text
    token = page_csrf_token(client, "/organisation/team-folders")
    made = client.post(
        "/organisation/team-folders",
        data={"csrf_token": token, "name": "Projects"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    folder_page = made.headers["location"]
    again = client.post(
        "/organisation/team-folders", data={"csrf_token": token, "name": "projects"}
    )
    assert again.status_code == 409 and "already exists" in again.text
    group = client.post(
        "/organisation/groups",
        data={"csrf_token": token, "name": "Design"},
        follow_redirects=False,
    ).headers["location"]
    added = client.post(f"{group}/members", data={"csrf_token": token, "email": acme.user.email})
    assert added.status_code == 200 and acme.user.email in added.text
    (design,) = services.groups.list_groups(actor(services, acme.admin))
    member = client.post(
        f"{folder_page}/members",
        data={"csrf_token": token, "member": f"group:{design.id}", "role": "editor"},
    )
    assert member.status_code == 200 and "Design" in member.text and "Editor" in member.text
    unknown = client.post(
        f"{folder_page}/members",
        data={"csrf_token": token, "member": "nobody@example.com", "role": "viewer"},
    )
    assert unknown.status_code == 422
    assert "No account with that address in your organisation." in unknown.text
    forged = client.post(f"{folder_page}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    spaces = services.spaces.list_spaces(actor(services, acme.user))
    assert [(s.name, s.role.value) for s in spaces][1] == ("Projects", "editor")


def test_dutch_pages_a_member_may_not_manage_other_tenants_are_not_found(
    client: TestClient, services: Services
) -> None:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    theirs = services.team_folders.create(actor(services, globex.admin), "Secret", client=CLIENT)
    log_in(client, acme.admin.email)
    dutch = client.get("/organisation/team-folders", headers={"Accept-Language": "nl"})
    assert "Teammappen" in dutch.text and "Nieuwe groep" in dutch.text
    token = page_csrf_token(client, "/organisation/team-folders")
    client.post("/organisation/team-folders", data={"csrf_token": token, "name": "Plans"})
    taken = client.post(
        "/organisation/team-folders",
        data={"csrf_token": token, "name": "PLANS"},
        headers={"Accept-Language": "nl"},
    )
    assert taken.status_code == 409 and "Er bestaat al een teammap met die naam." in taken.text
    assert client.get(f"/organisation/team-folders/{theirs.id}").status_code == 404
    assert client.get("/organisation/team-folders/not-an-id").status_code == 404
    client.cookies.clear()
    log_in(client, acme.user.email)
    assert client.get("/organisation/team-folders").status_code == 403


def test_the_files_page_lists_the_members_team_folders_and_links_managers_to_members(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    plans = services.team_folders.create(admin, "Plans", client=CLIENT)
    hidden = services.team_folders.create(admin, "Hidden", client=CLIENT)
    services.team_folders.set_user_role(admin, plans.id, acme.user.email, "manager", client=CLIENT)
    log_in(client, acme.user.email)
    page = client.get("/files").text
    assert "Plans" in page and f"/remote.php/dav/spaces/{plans.id}/" in page
    assert f"/organisation/team-folders/{plans.id}" in page
    assert "Hidden" not in page and str(hidden.id) not in page
    services.team_folders.set_user_role(admin, plans.id, acme.user.email, "viewer", client=CLIENT)
    page = client.get("/files", headers={"Accept-Language": "nl"}).text
    assert "Lezer" in page and f"/organisation/team-folders/{plans.id}" not in page
