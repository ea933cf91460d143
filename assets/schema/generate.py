#!/usr/bin/env python3
"""Generates assets/schema/{user,group,orgContact}.v1.0.json from Graph's CSDL metadata.

Read: microsoftgraph/msgraph-metadata, clean_v10_metadata/cleanMetadata.xml at commit
84c1cb513c0b32cd1d9373d79ad4b6ffae991c42 (2026-08-04; repository snapshot f54f11b6, 2026-08-20).
The CSDL itself (3.5 MB) is not kept in this repository.

Usage:
    git -C msgraph-metadata show HEAD:clean_v10_metadata/cleanMetadata.xml > /tmp/v1.xml
    python3 assets/schema/generate.py /tmp/v1.xml [--commit SHA] [--path PATH]

For each entity type (and its base types, but not `entity`'s `id`, which delta always returns)
every structural property is listed with its EDM type and two flags:
- `default`: returned by delta without `$select` (the docs' delta examples and the resource
  pages' "Returned by default"; the lists below);
- `delta`: accepted in a delta `$select`. False for the properties the docs say are read only
  for a single object (user-list.md "only supported when retrieving a single user";
  group.md "Supported only on the Get group API").
Standard library only.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
SOURCE_REPO = "microsoftgraph/msgraph-metadata"
SOURCE_PATH = "clean_v10_metadata/cleanMetadata.xml"
SOURCE_COMMIT = "84c1cb513c0b32cd1d9373d79ad4b6ffae991c42"

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csdl", help="path to the CSDL XML")
    ap.add_argument("--commit", default=SOURCE_COMMIT, help="msgraph-metadata commit read")
    ap.add_argument("--path", default=SOURCE_PATH, help="path of the CSDL in msgraph-metadata")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    types = dict(entity_types(ET.parse(args.csdl).getroot()))
    for entity in ("user", "group", "orgContact"):
        props = properties(types, entity)
        names = {n for n, _ in props}
        for n in DEFAULTS[entity] + SINGLE_ONLY[entity]:
            if n not in names:
                sys.exit(f"{entity}.{n} is listed here but not in the metadata")
        doc = {
            "entity": entity,
            "version": "v1.0",
            "source": {"repository": SOURCE_REPO, "path": args.path, "commit": args.commit},
            "generatedBy": "assets/schema/generate.py",
            "properties": [
                {
                    "name": n,
                    "type": t,
                    "default": n in DEFAULTS[entity],
                    "delta": n not in SINGLE_ONLY[entity],
                }
                for n, t in props
            ],
        }
        path = os.path.join(args.out, f"{entity}.v1.0.json")
        with open(path, "w", encoding="utf-8") as f:
            # One property a line: reviewable diffs when the metadata changes.
            head = json.dumps({k: v for k, v in doc.items() if k != "properties"}, indent=1)
            rows = ",\n".join("  " + json.dumps(p) for p in doc["properties"])
            f.write(head[:-2] + ',\n "properties": [\n' + rows + "\n ]\n}\n")
        print(f"{path}: {len(props)} properties")


if __name__ == "__main__":
    main()
