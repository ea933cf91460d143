#!/usr/bin/env python3
"""The official Microsoft Graph Python SDK (msgraph-sdk, from PyPI) against
`deltascope emulator --tls`.

Starts the emulator with https (a CA made at start, written to a file), signs in with
azure-identity's ClientSecretCredential whose authority is the emulator (MSAL reads the
emulator's OpenID metadata, then its token endpoint, over https), and with a GraphServiceClient whose
base URL is the emulator and whose httpx client trusts that CA only, walks the delta rounds of
users, groups and contacts: every nextLink to the deltaLink, then, after changes made through the
emulator's control API (/_emulator/...), one more round from each deltaLink that must bring
those changes. Every link must be https on the emulator. It also checks that a client that does
not trust the CA is refused.

Run it with tests/sdk/run_python_sdk.sh (makes the venv and installs msgraph-sdk), or by hand:

    python tests/sdk/python_sdk_walk.py --deltascope target/debug/deltascope

Exit 0 with a summary on success; "SKIPPED: ..." and exit 0 when msgraph-sdk is not installed;
exit 1 with the reason otherwise.
"""

import argparse
import asyncio
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

try:
    import httpx
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIPPED: the Graph Python SDK is not installed ({e}); run tests/sdk/run_python_sdk.sh")
    sys.exit(0)

CLIENT_ID = "python-sdk-walk"
SECRET = "any-secret-the-demo-identity-accepts"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def start_emulator(binary, ca_out):
    """`deltascope emulator --tls`: returns the process, its https base URL and the CA file."""
    proc = subprocess.Popen(
        [binary, "emulator", "--tls", "--listen", "127.0.0.1:0", "--ca-out", ca_out,
         "--contacts", "120", "--users", "60", "--groups", "8", "--page-size", "25"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = proc.stdout.readline().strip()
    second = proc.stdout.readline().strip()
    prefix = "deltascope emulator listening on "
    if not first.startswith(prefix):
        proc.kill()
        raise Failure(f"unexpected first line from the emulator: {first!r}")
    base = first[len(prefix):]
    check(base.startswith("https://"), f"the emulator is not on https: {base}")
    ca_prefix = "deltascope emulator CA certificate: "
    check(second.startswith(ca_prefix), f"no CA line: {second!r}")
    ca = second[len(ca_prefix):]
    check(os.path.abspath(ca) == os.path.abspath(ca_out), f"CA written to {ca}, not {ca_out}")
    return proc, base, ca


def trusting(ca):
    """An SSL context trusting the emulator's CA only, as strict as Python 3.13's default."""
    ctx = ssl.create_default_context(cafile=ca)
    if hasattr(ssl, "VERIFY_X509_STRICT"):
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    return ctx


class Counting:
    """azure-identity's ClientSecretCredential, as an app would use it, counting the SDK's
    token requests. Its authority is the emulator: MSAL reads the emulator's OpenID metadata
    (`/{tenant}/v2.0/.well-known/openid-configuration`) and then its token endpoint, over https
    with the emulator's CA (`connection_verify`)."""

    def __init__(self, base, tenant, ca):
        self.inner = ClientSecretCredential(
            tenant, CLIENT_ID, SECRET,
            authority=base,
            disable_instance_discovery=True,
            connection_verify=ca,
        )
        self.calls = 0

    def get_token(self, *scopes, **kwargs):
        self.calls += 1
        return self.inner.get_token(*scopes, **kwargs)

    def close(self):
        self.inner.close()


def graph_client(base, credential, ssl_context):
    http = httpx.AsyncClient(verify=ssl_context)
    http = GraphClientFactory.create_with_default_middleware(client=http)
    http.base_url = f"{base}/v1.0"
    host = base.split("://", 1)[1].rsplit(":", 1)[0]
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=[f"{base}/.default"], allowed_hosts=[host]
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{base}/v1.0"
    return GraphServiceClient(request_adapter=adapter), http


async def walk(builder, base, link=None):
    """One round: the first request (or the deltaLink), then every nextLink. Returns the
    items, the number of pages and the deltaLink."""
    items, pages = [], 0
    page = await (builder.with_url(link).get() if link else builder.get())
    while True:
        pages += 1
        check(page is not None, "an empty response")
        items.extend(page.value or [])
        nxt, delta = page.odata_next_link, page.odata_delta_link
        for l in (nxt, delta):
            check(l is None or l.startswith(f"{base}/v1.0/"), f"a link off the emulator or not https: {l}")
        if nxt:
            check(pages < 1000, "the round does not end")
            page = await builder.with_url(nxt).get()
            continue
        check(delta is not None, "the last page has no deltaLink")
        return items, pages, delta


async def run(binary):
    tmp = tempfile.mkdtemp(prefix="deltascope-python-sdk-")
    proc = None
    try:
        proc, base, ca = start_emulator(binary, os.path.join(tmp, "emulator-ca.pem"))
        ctx = trusting(ca)
        async with httpx.AsyncClient(verify=ctx, base_url=f"{base}/_emulator") as control:
            state = (await control.get("/state")).json()
            tenant = state["tenantId"]
            cred = Counting(base, tenant, ca)
            gc, http = graph_client(base, cred, ctx)
            summary = []
            rounds = {}
            resources = [
                ("users", gc.users.delta, 60),
                ("groups", gc.groups.delta, 8),
                ("contacts", gc.contacts.delta, 120),
            ]
            for name, builder, expected in resources:
                items, pages, delta = await walk(builder, base)
                ids = {i.id for i in items}
                check(len(ids) == expected, f"{name}: {len(ids)} distinct objects, expected {expected}")
                rounds[name] = delta
                line = f"{name}: full round {pages} page(s), {len(items)} items ({len(ids)} objects)"
                if name == "groups":
                    links = sum(len((i.additional_data or {}).get("members@delta") or []) for i in items)
                    check(links > 0, "groups: no members@delta")
                    line += f", {links} members@delta links"
                summary.append(line)

            # Changes through the control API, then one more round of each from its deltaLink.
            user = state["organizers"][0]
            group = state["sampleGroupIds"][0]
            contact = state["sampleContactIds"][0]
            for path, body in [
                (f"/users/{user}", {"jobTitle": "Python SDK walker"}),
                (f"/groups/{group}", {"description": "changed by the Python SDK walk"}),
                (f"/contacts/{contact}", {"jobTitle": "Python SDK walker"}),
            ]:
                r = await control.patch(path, json=body)
                check(r.status_code == 200, f"PATCH {path}: HTTP {r.status_code}: {r.text[:200]}")
            changed = {"users": user, "groups": group, "contacts": contact}
            for name, builder, _ in resources:
                items, pages, _delta = await walk(builder, base, rounds[name])
                ids = {i.id for i in items}
                check(changed[name] in ids, f"{name}: the changed object is not in the next round ({ids})")
                summary.append(f"{name}: next round {pages} page(s), {len(items)} change(s)")
            await http.aclose()
            check(cred.calls >= 1, "the SDK never asked for a token")

            # Nothing else trusts the CA: the SDK with the system's roots is refused.
            gc_plain, http_plain = graph_client(base, cred, ssl.create_default_context())
            try:
                await gc_plain.contacts.delta.get()
                raise Failure("a client without the CA was not refused")
            except (httpx.ConnectError, ssl.SSLError) as e:
                check("CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate" in str(e).lower(), str(e))
                summary.append("without the CA: refused (certificate verify failed)")
            finally:
                await http_plain.aclose()

        print(f"msgraph-sdk against {base} (CA {ca}):")
        for line in summary:
            print(f"  {line}")
        print("OK")
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deltascope", default=os.environ.get("DELTASCOPE_BIN", "target/debug/deltascope"),
                   help="the deltascope binary (default: $DELTASCOPE_BIN or target/debug/deltascope)")
    args = p.parse_args()
    if not os.path.isfile(args.deltascope):
        print(f"FAILED: no deltascope binary at {args.deltascope} (cargo build, or --deltascope PATH)")
        return 1
    try:
        return asyncio.run(run(args.deltascope))
    except Failure as e:
        print(f"FAILED: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
