#!/usr/bin/env python3
"""Generates assets/schema/<entity>.{v1.0,beta}.json from Graph's CSDL metadata.

Entities: the directory ones (user, group, orgContact, application, servicePrincipal, device,
directoryRole, administrativeUnit, oAuth2PermissionGrant), Outlook's (message, mailFolder,
event, contact), driveItem and todoTask: every entity type the catalog's delta resources return.

v1.0 read: microsoftgraph/msgraph-metadata, clean_v10_metadata/cleanMetadata.xml at commit
84c1cb513c0b32cd1d9373d79ad4b6ffae991c42 (2026-08-04; repository snapshot f54f11b6, 2026-08-20).
The CSDL itself (3.5 MB) is not kept in this repository.

beta read: the same snapshot (f54f11b6). Its beta CSDL (clean_beta_metadata/cleanMetadata.xml,
last changed in bd05c95e, 2026-08-06) was not part of the snapshot available here (the
repository's largest files were left out), so the beta lists were made from the fallback below;
with a complete checkout, `--version beta --repo DIR` reads the beta CSDL itself instead.
Fallback: the property names of each entity type from schemas/type-mappings/beta-entity-types.json
(5c6e4de9, 2026-08-04: written by the repository's scripts/generate-type-mappings.ps1 from
schemas/beta-Prod.csdl, the production beta schema), their EDM types from the first of
schemas/beta-USNat.csdl, beta-USSec.csdl, beta-GovSG.csdl (69bb1201) and
clean_v10_metadata/cleanMetadata.xml that has the property; a property none of them has is
written `Edm.Untyped` and listed under `source.untyped` (the emulator writes it as null).

Usage:
    git -C msgraph-metadata show HEAD:clean_v10_metadata/cleanMetadata.xml > /tmp/v1.xml
    python3 assets/schema/generate.py /tmp/v1.xml [--commit SHA] [--path PATH]
    python3 assets/schema/generate.py --version beta --repo msgraph-metadata[/.git] [--rev REV]

For each entity type (and its base types, but not `entity`'s `id`, which delta always returns)
every structural property is listed with its EDM type and two flags:
- `default`: returned by delta without `$select` (the docs' delta examples and the resource
  pages' "Returned by default"; the v1.0 lists below, applied to beta as they are);
- `delta`: accepted in a delta `$select`. False for the properties the docs say are read only
  for a single object (user-list.md "only supported when retrieving a single user";
  group.md "Supported only on the Get group API"; v1.0 pages, applied to beta as they are:
  not checked against the beta pages).
Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
SOURCE_REPO = "microsoftgraph/msgraph-metadata"
SOURCE_PATH = "clean_v10_metadata/cleanMetadata.xml"
SOURCE_COMMIT = "84c1cb513c0b32cd1d9373d79ad4b6ffae991c42"
BETA_PATH = "clean_beta_metadata/cleanMetadata.xml"
# The fallback when the beta CSDL is not in the checkout (see the docstring).
BETA_NAMES = "schemas/type-mappings/beta-entity-types.json"
BETA_TYPES = [
    "schemas/beta-USNat.csdl",
    "schemas/beta-USSec.csdl",
    "schemas/beta-GovSG.csdl",
    "clean_v10_metadata/cleanMetadata.xml",
]

# Returned without $select: user-delta.md example 1 and user.md "Returned by default";
# group.md's default set as the emulator and catalog had it; orgContact as the emulator had it.
DEFAULTS = {
    "user": [
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
    ],
    "group": [
        "classification", "createdDateTime", "description", "displayName", "groupTypes",
        "mail", "mailEnabled", "mailNickname", "onPremisesLastSyncDateTime",
        "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "proxyAddresses",
        "securityEnabled", "visibility",
    ],
    "orgContact": [
        "companyName", "department", "displayName", "givenName", "jobTitle", "mail",
        "mailNickname", "surname",
    ],
}

# The entity types added for the catalog's other delta resources. Returned without $select:
# every property but those listed in NOT_DEFAULT (their delta pages return the object as the
# list operation does; message.md, event.md and driveitem.md say which properties come only
# with $select or never in a collection).
ALL_DEFAULT = [
    "application", "servicePrincipal", "device", "directoryRole", "administrativeUnit",
    "oAuth2PermissionGrant", "message", "mailFolder", "event", "contact", "driveItem",
    "todoTask",
]
NOT_DEFAULT = {
    # message.md: internetMessageHeaders and uniqueBody are returned only with $select.
    "message": ["internetMessageHeaders", "uniqueBody"],
    # driveitem.md: content is the stream (a separate request); searchResult only in search
    # results; pendingOperations is beta-era and not returned by delta.
    "driveItem": ["content", "searchResult", "pendingOperations"],
    # directoryRole/administrativeUnit/... : nothing held back.
}
# driveItem's content stream cannot be selected in a collection.
NOT_DELTA = {"driveItem": ["content"]}
for _e in ALL_DEFAULT:
    DEFAULTS.setdefault(_e, [])

# Not accepted in a delta $select (read only for a single object).
# user: api-reference/v1.0/api/user-list.md, "The following properties are only supported when
# retrieving a single user" (structural ones; `print` is a structural complex property too).
# group: api-reference/v1.0/resources/group.md, "Supported only on the Get group API".
SINGLE_ONLY = {
    "user": [
        "aboutMe", "birthday", "deviceEnrollmentLimit", "hireDate", "interests",
        "mailboxSettings", "mySite", "pastProjects", "preferredName", "print",
        "responsibilities", "schools", "signInActivity", "skills",
    ],
    "group": [
        "allowExternalSenders", "autoSubscribeNewMembers", "hideFromAddressLists",
        "hideFromOutlookClients", "isSubscribedByMail", "unseenCount",
    ],
    "orgContact": [],
}


def qualified(t):
    """`graph.x` -> `microsoft.graph.x`, also inside Collection(...)."""
    if t.startswith("Collection(") and t.endswith(")"):
        return "Collection(" + qualified(t[len("Collection("):-1]) + ")"
    if t.startswith("graph."):
        return NAMESPACE + t[len("graph"):]
    return t


def entity_types(root):
    for schema in root.iter(EDM + "Schema"):
        if schema.get("Namespace") != NAMESPACE:
            continue
        for e in schema.findall(EDM + "EntityType"):
            yield e.get("Name"), e


def properties(types, name):
    out = []
    seen = set()
    while name and name != "entity":
        e = types.get(name)
        if e is None:
            sys.exit(f"entity type {name} not found in namespace {NAMESPACE}")
        for p in e.findall(EDM + "Property"):
            if p.get("Name") not in seen:
                seen.add(p.get("Name"))
                out.append((p.get("Name"), qualified(p.get("Type", ""))))
        base = e.get("BaseType") or ""
        name = base.split(".", 1)[1] if "." in base else base
    return sorted(out, key=lambda p: p[0].lower())


def git_show(repo, rev, path):
    """The blob `rev:path` of git directory `repo`, or None when it is absent."""
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout if r.returncode == 0 and r.stdout else None


def last_commit(repo, rev, path):
    r = subprocess.run(
        ["git", "-C", repo, "log", "-1", "--format=%H", rev, "--", path],
        capture_output=True, text=True,
    )
    return r.stdout.strip() or None


def beta_sources(repo, rev):
    """(properties(entity) -> [(name, type)], source record) for beta, read from `repo`."""
    blob = git_show(repo, rev, BETA_PATH)
    if blob is not None:
        types = dict(entity_types(ET.fromstring(blob)))
        source = {"repository": SOURCE_REPO, "path": BETA_PATH,
                  "commit": last_commit(repo, rev, BETA_PATH)}
        return (lambda entity: properties(types, entity)), source
    names_blob = git_show(repo, rev, BETA_NAMES)
    if names_blob is None:
        sys.exit(f"neither {BETA_PATH} nor {BETA_NAMES} is readable at {rev}")
    names = json.loads(names_blob)[NAMESPACE]
    csdls = []
    for path in BETA_TYPES:
        b = git_show(repo, rev, path)
        if b is not None:
            csdls.append((path, dict(entity_types(ET.fromstring(b)))))
    untyped = []

    def props(entity):
        out = []
        name = entity
        while name and name != "entity":
            spec = names.get(name)
            if spec is None:
                sys.exit(f"entity type {name} not in {BETA_NAMES}")
            for p in spec.get("properties", []):
                ty = None
                for _, types in csdls:
                    e = types.get(name)
                    # (An element without children is falsy: compare with None.)
                    hit = None if e is None else next(
                        (q for q in e.findall(EDM + "Property") if q.get("Name") == p), None)
                    if hit is not None:
                        ty = qualified(hit.get("Type", ""))
                        break
                if ty is None:
                    ty = "Edm.Untyped"
                    untyped.append(f"{entity}.{p}")
                out.append((p, ty))
            # The base type as the first CSDL that has the entity type spells it.
            base = next((t[name].get("BaseType") for _, t in csdls if name in t), "") or ""
            name = base.split(".", 1)[1] if "." in base else base
        return sorted(out, key=lambda p: p[0].lower())

    source = {
        "repository": SOURCE_REPO,
        "path": BETA_NAMES,
        "commit": last_commit(repo, rev, BETA_NAMES),
        "snapshot": subprocess.run(["git", "-C", repo, "rev-parse", rev], capture_output=True,
                                   text=True).stdout.strip(),
        "note": f"{BETA_PATH} was not in the snapshot: names from {BETA_NAMES} (from "
                "schemas/beta-Prod.csdl), types from the first of typesFrom that has them",
        "typesFrom": [{"path": p, "commit": last_commit(repo, rev, p)} for p, _ in csdls],
        "untyped": untyped,
    }
    return props, source


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csdl", nargs="?", help="path to the CSDL XML (v1.0)")
    ap.add_argument("--version", choices=["v1.0", "beta"], default="v1.0")
    ap.add_argument("--repo", help="msgraph-metadata git directory to read from (beta)")
    ap.add_argument("--rev", default="HEAD", help="revision of --repo to read (beta)")
    ap.add_argument("--commit", default=SOURCE_COMMIT, help="msgraph-metadata commit read")
    ap.add_argument("--path", default=SOURCE_PATH, help="path of the CSDL in msgraph-metadata")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    if args.version == "beta":
        if not args.repo:
            sys.exit("--version beta reads the metadata repository: give --repo DIR")
        props_of, source = beta_sources(args.repo, args.rev)
    else:
        if not args.csdl:
            sys.exit("give the v1.0 CSDL path")
        types = dict(entity_types(ET.parse(args.csdl).getroot()))
        props_of = lambda entity: properties(types, entity)  # noqa: E731
        source = {"repository": SOURCE_REPO, "path": args.path, "commit": args.commit}
    docs = []
    for entity in ["user", "group", "orgContact"] + ALL_DEFAULT:
        props = props_of(entity)
        names = {n for n, _ in props}
        listed = (DEFAULTS[entity] + SINGLE_ONLY.get(entity, []) + NOT_DEFAULT.get(entity, [])
                  + NOT_DELTA.get(entity, []))
        for n in listed:
            if n not in names and not (args.version == "beta" and n in NOT_DEFAULT.get(entity, [])):
                sys.exit(f"{entity}.{n} is listed here but not in the metadata")
        if entity in ALL_DEFAULT:
            DEFAULTS[entity] = [n for n in sorted(names) if n not in NOT_DEFAULT.get(entity, [])]
        docs.append((entity, props))
    for entity, props in docs:
        own = dict(source)
        if "untyped" in own:
            own["untyped"] = [u for u in own["untyped"] if u.startswith(entity + ".")]
        doc = {
            "entity": entity,
            "version": args.version,
            "source": own,
            "generatedBy": "assets/schema/generate.py",
            "properties": [
                {
                    "name": n,
                    "type": t,
                    "default": n in DEFAULTS[entity],
                    "delta": n not in SINGLE_ONLY.get(entity, [])
                    and n not in NOT_DELTA.get(entity, []),
                }
                for n, t in props
            ],
        }
        path = os.path.join(args.out, f"{entity}.{args.version}.json")
        with open(path, "w", encoding="utf-8") as f:
            # One property a line: reviewable diffs when the metadata changes.
            head = json.dumps({k: v for k, v in doc.items() if k != "properties"}, indent=1)
            rows = ",\n".join("  " + json.dumps(p) for p in doc["properties"])
            f.write(head[:-2] + ',\n "properties": [\n' + rows + "\n ]\n}\n")
        print(f"{path}: {len(props)} properties")


if __name__ == "__main__":
    main()
