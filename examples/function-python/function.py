#!/usr/bin/env python3
"""Random search as a Knobs function, in Python with the standard library only.

It keeps the function contract (docs/function-contract.md) the way the Go
functions do, over CloudEvents on HTTP/1.1:

  POST /        a CloudEvent, binary or structured mode:
                dev.knobs.suggestion.request        -> dev.knobs.suggestion.reply
                dev.knobs.algorithmsettings.validate -> dev.knobs.algorithmsettings.valid
                anything that fails                  -> dev.knobs.error
  GET /healthz  200 ok

Data is protobuf JSON (application/json) or binary protobuf
(application/protobuf, what the controller sends); the reply uses the
request's encoding. The protobuf wire format is read and written by hand below
for the few messages of pkg/suggestionpb/suggestion.proto a function needs.

It speaks CloudEvents only: gRPC needs HTTP/2, which the standard library does
not have, and the controller does not need it.

Run it with:  PORT=8080 python3 function.py
"""

import base64
import datetime
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import struct
import sys
import threading
import time
import traceback
import uuid
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The algorithm this function serves, as replies and logs name it.
ALGORITHM = "random"
SOURCE = "knobs.dev/examples/function-python"

# The CloudEvent types of the function contract.
TYPE_SUGGESTION_REQUEST = "dev.knobs.suggestion.request"
TYPE_SUGGESTION_REPLY = "dev.knobs.suggestion.reply"
TYPE_VALIDATE_REQUEST = "dev.knobs.algorithmsettings.validate"
TYPE_VALIDATE_REPLY = "dev.knobs.algorithmsettings.valid"
TYPE_ERROR = "dev.knobs.error"

# The data content types a function reads and writes.
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_PROTOBUF = "application/protobuf"
CONTENT_TYPE_STRUCTURED = "application/cloudevents+json"

DEFAULT_PORT = "8080"
MAX_REQUEST_BYTES = 32 << 20
MAX_REQUEST_NUMBER = 10000
SHUTDOWN_TIMEOUT = 20.0
RANDOM_STATE = "random_state"


# --------------------------------------------------------------------------
# Errors
#
# An Error carries a gRPC code name, as a dev.knobs.error event does; the HTTP
# status follows from the code: 4xx for the caller's mistakes, 5xx only for
# faults worth a retry.

HTTP_STATUS = {
    "OK": 200,
    "InvalidArgument": 400,
    "Unimplemented": 405,
    "ResourceExhausted": 413,
    "Internal": 500,
}


class Error(Exception):
    """A failed request: a gRPC code name and a message saying what to fix."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(path, message):
    """The caller's mistake in the field at path, such as `requestNumber`."""
    return Error("InvalidArgument", f"{path}: {message}" if path else message)


def go_quote(s):
    """Quotes a string in double quotes, as Go's %q does for ordinary text."""
    return json.dumps(s, ensure_ascii=False)


# --------------------------------------------------------------------------
# The messages of suggestion.proto a function reads and writes
#
# A message is a dict keyed by the lowerCamelCase JSON names; a field that is
# absent has its default value. The same schema drives the protobuf wire
# format and protobuf JSON.

Field = namedtuple("Field", "number name json kind ref repeated")


def _field(number, name, kind, ref=None, repeated=False):
    parts = name.split("_")
    json_name = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return Field(number, name, json_name, kind, ref, repeated)


ENUMS = {
    "ParameterType": ["UNKNOWN_TYPE", "DOUBLE", "INT", "DISCRETE", "CATEGORICAL"],
    "Distribution": ["DISTRIBUTION_UNSPECIFIED", "UNIFORM", "LOG_UNIFORM", "NORMAL", "LOG_NORMAL"],
    "ObjectiveType": ["UNKNOWN", "MINIMIZE", "MAXIMIZE"],
    "TrialCondition": ["TRIAL_CONDITION_UNSPECIFIED", "PENDING", "RUNNING", "SUCCEEDED",
                       "FAILED", "METRICS_UNAVAILABLE", "EARLY_STOPPED"],
    "NumberFormat": ["POSITIONAL", "SHORTEST"],
}

MESSAGES = {
    "GetSuggestionsRequest": [
        _field(1, "experiment", "message", "Experiment"),
        _field(2, "trials", "message", "Trial", repeated=True),
        _field(3, "request_number", "int32"),
        _field(10, "history", "message", "TrialColumns"),
    ],
    # The history in columns (see expand_history).
    "TrialColumns": [
        _field(1, "name_prefix", "string"),
        _field(2, "name_first", "int64"),
        _field(3, "names", "message", "Texts"),
        _field(4, "conditions", "enum", "TrialCondition", repeated=True),
        _field(5, "parameters", "message", "ParameterColumn", repeated=True),
        _field(6, "metrics", "message", "MetricColumn", repeated=True),
        _field(7, "plain_rows", "uint32", repeated=True),
        _field(8, "plain", "message", "Trial", repeated=True),
    ],
    "Texts": [_field(1, "at", "uint32", repeated=True), _field(2, "values", "string", repeated=True)],
    "ParameterColumn": [
        _field(1, "doubles", "double", repeated=True),
        _field(2, "format", "enum", "NumberFormat"),
        _field(3, "ints", "sint64", repeated=True),
        _field(4, "indices", "uint32", repeated=True),
        _field(5, "texts", "message", "Texts"),
    ],
    "MetricColumn": [
        _field(1, "name", "string"),
        _field(2, "absent", "uint32", repeated=True),
        _field(3, "values", "double", repeated=True),
        _field(4, "format", "enum", "NumberFormat"),
        _field(5, "texts", "message", "Texts"),
        _field(6, "curve_lengths", "uint32", repeated=True),
        _field(7, "curve_steps", "sint64", repeated=True),
        _field(8, "curve_values", "double", repeated=True),
        _field(9, "curve_texts", "message", "Texts"),
    ],
    "GetSuggestionsReply": [
        _field(1, "parameter_assignments", "message", "ParameterAssignments", repeated=True),
        _field(2, "algorithm", "message", "AlgorithmSpec"),
        _field(10, "search_space_exhausted", "bool"),
    ],
    "ValidateAlgorithmSettingsRequest": [_field(1, "experiment", "message", "Experiment")],
    "ValidateAlgorithmSettingsReply": [],
    "Experiment": [
        _field(1, "name", "string"),
        _field(2, "experiment_spec", "message", "ExperimentSpec"),
    ],
    "ExperimentSpec": [
        _field(1, "parameter_specs", "message", "ParameterSpecs"),
        _field(2, "objective", "message", "ObjectiveSpec"),
        _field(3, "algorithm", "message", "AlgorithmSpec"),
    ],
    "ParameterSpecs": [_field(1, "parameters", "message", "ParameterSpec", repeated=True)],
    "AlgorithmSpec": [
        _field(1, "algorithm_name", "string"),
        _field(2, "algorithm_settings", "message", "AlgorithmSetting", repeated=True),
    ],
    "AlgorithmSetting": [_field(1, "name", "string"), _field(2, "value", "string")],
    "ParameterSpec": [
        _field(1, "name", "string"),
        _field(2, "parameter_type", "enum", "ParameterType"),
        _field(3, "feasible_space", "message", "FeasibleSpace"),
        _field(10, "parent_name", "string"),
        _field(11, "parent_values", "string", repeated=True),
    ],
    "FeasibleSpace": [
        _field(1, "max", "string"),
        _field(2, "min", "string"),
        _field(3, "list", "string", repeated=True),
        _field(4, "step", "string"),
        _field(5, "distribution", "enum", "Distribution"),
    ],
    "ObjectiveSpec": [
        _field(1, "type", "enum", "ObjectiveType"),
        _field(2, "goal", "double"),
        _field(3, "objective_metric_name", "string"),
    ],
    "Trial": [
        _field(1, "name", "string"),
        _field(2, "spec", "message", "TrialSpec"),
        _field(3, "status", "message", "TrialStatus"),
    ],
    "TrialSpec": [
        _field(2, "parameter_assignments", "message", "ParameterAssignments"),
        _field(3, "run_spec", "string"),
    ],
    # Also GetSuggestionsReply.ParameterAssignments, which has the same shape.
    "ParameterAssignments": [_field(1, "assignments", "message", "ParameterAssignment", repeated=True)],
    "ParameterAssignment": [_field(1, "name", "string"), _field(2, "value", "string")],
    "TrialStatus": [
        _field(3, "condition", "enum", "TrialCondition"),
        _field(4, "observation", "message", "Observation"),
    ],
    "Observation": [_field(1, "metrics", "message", "Metric", repeated=True)],
    "Metric": [_field(1, "name", "string"), _field(2, "value", "string")],
}

BY_NUMBER = {m: {f.number: f for f in fields} for m, fields in MESSAGES.items()}


def default(f):
    """The value of an absent field."""
    if f.repeated:
        return []
    return {"string": "", "int32": 0, "int64": 0, "uint32": 0, "sint64": 0, "enum": 0,
            "double": 0.0, "bool": False, "message": None}[f.kind]


def get(msg, name, fallback=None):
    """A field of a message that may be absent (None), by its JSON name."""
    if msg is None:
        return fallback
    return msg.get(name, fallback)


# --------------------------------------------------------------------------
# The protobuf wire format

WIRE_VARINT, WIRE_FIXED64, WIRE_BYTES, WIRE_START_GROUP, WIRE_END_GROUP, WIRE_FIXED32 = range(6)
WIRE_TYPE = {"string": WIRE_BYTES, "message": WIRE_BYTES, "int32": WIRE_VARINT, "int64": WIRE_VARINT,
             "uint32": WIRE_VARINT, "sint64": WIRE_VARINT, "enum": WIRE_VARINT, "bool": WIRE_VARINT,
             "double": WIRE_FIXED64}


class DecodeError(Exception):
    pass


def read_varint(buf, pos):
    """Reads a base-128 varint of at most 10 bytes; returns it and the position after it."""
    result = shift = 0
    for i in range(10):
        if pos >= len(buf):
            raise DecodeError("unexpected end of data in a varint")
        b = buf[pos]
        pos += 1
        if i == 9 and b > 1:
            raise DecodeError("varint overflows 64 bits")
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
    raise DecodeError("varint overflows 64 bits")


def int32_of(v):
    """The int32 a varint stands for: its low 32 bits, two's complement."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def int64_of(v):
    """The int64 a varint stands for: its 64 bits, two's complement."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


VARINT_OF = {
    "int32": int32_of,
    "enum": int32_of,
    "int64": int64_of,
    "uint32": lambda v: v & 0xFFFFFFFF,
    "sint64": lambda v: (v >> 1) ^ -(v & 1),  # zigzag
}


def read_bytes(buf, pos):
    n, pos = read_varint(buf, pos)
    if n > len(buf) - pos:
        raise DecodeError("length-delimited field runs past the end of the data")
    return buf[pos:pos + n], pos + n


def skip_field(buf, pos, wire, number, depth=0):
    """Skips the value of a field this function does not know."""
    if wire == WIRE_VARINT:
        return read_varint(buf, pos)[1]
    if wire == WIRE_FIXED64 or wire == WIRE_FIXED32:
        size = 8 if wire == WIRE_FIXED64 else 4
        if pos + size > len(buf):
            raise DecodeError("unexpected end of data in a fixed-size field")
        return pos + size
    if wire == WIRE_BYTES:
        return read_bytes(buf, pos)[1]
    if wire == WIRE_START_GROUP:
        if depth > 100:
            raise DecodeError("groups nested too deep")
        while True:
            if pos >= len(buf):
                raise DecodeError("unexpected end of data in a group")
            key, pos = read_varint(buf, pos)
            if key & 7 == WIRE_END_GROUP:
                if key >> 3 != number:
                    raise DecodeError("mismatched end of group")
                return pos
            pos = skip_field(buf, pos, key & 7, key >> 3, depth + 1)
    raise DecodeError(f"invalid wire type {wire}")


def scalar_from_wire(f, wire, buf, pos):
    """Reads one value of a scalar field; returns it and the position after it."""
    if f.kind == "double":
        if pos + 8 > len(buf):
            raise DecodeError("unexpected end of data in a double")
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    if f.kind == "string":
        raw, pos = read_bytes(buf, pos)
        try:
            return raw.decode("utf-8"), pos
        except UnicodeDecodeError:
            raise DecodeError(f"field {f.name}: string field contains invalid UTF-8") from None
    v, pos = read_varint(buf, pos)
    if f.kind == "bool":
        return v != 0, pos
    return VARINT_OF[f.kind](v), pos


def decode_proto(buf, name, msg=None, depth=0):
    """Decodes binary protobuf into a message dict, merging into msg if given.

    As in every protobuf runtime, a scalar field given twice keeps its last
    value, a message field given twice is merged, repeated fields append, and
    fields this function does not know are skipped.
    """
    if depth > 100:
        raise DecodeError("messages nested too deep")
    fields = BY_NUMBER[name]
    msg = {} if msg is None else msg
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("invalid field number 0")
        f = fields.get(number)
        packed = f is not None and f.repeated and f.kind not in ("string", "message") and wire == WIRE_BYTES
        if f is None or (wire != WIRE_TYPE[f.kind] and not packed):
            pos = skip_field(buf, pos, wire, number)
            continue
        if f.kind == "message":
            raw, pos = read_bytes(buf, pos)
            if f.repeated:
                msg.setdefault(f.json, []).append(decode_proto(raw, f.ref, None, depth + 1))
            else:
                msg[f.json] = decode_proto(raw, f.ref, msg.get(f.json), depth + 1)
        elif packed:
            raw, pos = read_bytes(buf, pos)
            values, p = msg.setdefault(f.json, []), 0
            while p < len(raw):
                v, p = scalar_from_wire(f, WIRE_TYPE[f.kind], raw, p)
                values.append(v)
        else:
            v, pos = scalar_from_wire(f, wire, buf, pos)
            if f.repeated:
                msg.setdefault(f.json, []).append(v)
            else:
                msg[f.json] = v
    return msg


def varint(v):
    """Encodes a non-negative integer below 2^64 as a varint."""
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def encode_proto(msg, name):
    """Encodes a message dict as binary protobuf, fields in number order.

    Scalars at their default are left out, as proto3 does; a message field
    that is present is written even when empty.
    """
    out = bytearray()
    for f in sorted(MESSAGES[name], key=lambda f: f.number):
        value = msg.get(f.json)
        if value is None:
            continue
        for v in value if f.repeated else [value]:
            if f.kind == "message":
                body = encode_proto(v, f.ref)
                out += varint(f.number << 3 | WIRE_BYTES) + varint(len(body)) + body
            elif f.kind == "string":
                if v == "" and not f.repeated:
                    continue
                raw = v.encode("utf-8")
                out += varint(f.number << 3 | WIRE_BYTES) + varint(len(raw)) + raw
            elif f.kind == "double":
                if v == 0 and not f.repeated and math.copysign(1, v) > 0:
                    continue
                out += varint(f.number << 3 | WIRE_FIXED64) + struct.pack("<d", v)
            else:  # int32, enum and bool are varints; negative numbers take 10 bytes
                v = int(v)
                if v == 0 and not f.repeated:
                    continue
                out += varint(f.number << 3 | WIRE_VARINT) + varint(v & 0xFFFFFFFFFFFFFFFF)
    return bytes(out)


# --------------------------------------------------------------------------
# Protobuf JSON
#
# Like Go's protojson with DiscardUnknown: field names in lowerCamelCase or as
# in the proto, enums by name or number, 64-bit-safe numbers as JSON numbers
# or strings; fields and enum names this function does not know are ignored.


class Pairs(list):
    """A JSON object as the list of its (name, value) pairs, in order, so that
    a field given twice can be caught."""


def load_json(raw):
    def no_constants(token):
        raise ValueError(f"invalid JSON token {token}")
    return json.loads(raw, object_pairs_hook=Pairs, parse_constant=no_constants)


def json_kind(v):
    if isinstance(v, Pairs):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, bool):
        return "boolean " + ("true" if v else "false")
    if isinstance(v, (int, float)):
        return f"number {v}"
    if isinstance(v, str):
        return f"string {go_quote(v)}"
    return "null"


def decode_json_message(value, name, path="", depth=0):
    """Decodes a parsed protobuf JSON value into a message dict."""
    if depth > 100:
        raise DecodeError("messages nested too deep")
    if not isinstance(value, Pairs):
        raise DecodeError(f"{path or 'data'}: want a JSON object, got {json_kind(value)}")
    by_name = {}
    for f in MESSAGES[name]:
        by_name[f.json] = by_name[f.name] = f
    msg, seen = {}, set()
    for key, v in value:
        f = by_name.get(key)
        if f is None:
            continue  # a field this function does not know
        here = f"{path}.{f.json}" if path else f.json
        if f.number in seen:
            raise DecodeError(f"{here}: duplicate field")
        seen.add(f.number)
        if v is None:
            continue  # null is the default value
        if f.repeated:
            if not isinstance(v, list) or isinstance(v, Pairs):
                raise DecodeError(f"{here}: want a JSON array, got {json_kind(v)}")
            items = []
            for i, item in enumerate(v):
                item = json_value(f, item, f"{here}[{i}]", depth)
                if item is not None:
                    items.append(item)
            msg[f.json] = items
        else:
            item = json_value(f, v, here, depth)
            if item is not None:
                msg[f.json] = item
    return msg


INT_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")


def json_value(f, v, path, depth):
    """Decodes one JSON value of field f; None leaves the field at its default."""
    if f.kind == "message":
        return decode_json_message(v, f.ref, path, depth + 1)
    if f.kind == "string":
        if not isinstance(v, str):
            raise DecodeError(f"{path}: want a string, got {json_kind(v)}")
        return v
    if f.kind == "bool":
        if not isinstance(v, bool):
            raise DecodeError(f"{path}: want true or false, got {json_kind(v)}")
        return v
    if f.kind == "enum":
        names = ENUMS[f.ref]
        if isinstance(v, str):
            # An enum name this function does not know is ignored, as
            # protojson does with DiscardUnknown.
            return names.index(v) if v in names else None
        n = json_int32(v)
        if n is None:
            raise DecodeError(f"{path}: invalid value for enum {f.ref}: {json_kind(v)}")
        return n
    if f.kind in INT_RANGES:
        n = json_int(v, *INT_RANGES[f.kind])
        if n is None:
            raise DecodeError(f"{path}: invalid value for {f.kind}: {json_kind(v)}")
        return n
    # double: a number, or a string holding one, "NaN", "Infinity" or "-Infinity".
    if isinstance(v, str):
        if v in ("NaN", "Infinity", "-Infinity"):
            return float(v)
        if INT_TEXT.match(v):
            x = float(v)
            if not math.isinf(x):
                return x
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        x = float(v)
        if not math.isinf(x):
            return x
    raise DecodeError(f"{path}: invalid value for double: {json_kind(v)}")


INT_RANGES = {"int32": (-(1 << 31), 1 << 31), "int64": (-(1 << 63), 1 << 63),
              "sint64": (-(1 << 63), 1 << 63), "uint32": (0, 1 << 32)}


def json_int32(v):
    """An int32 written as a JSON number or a string holding one, or None."""
    return json_int(v, -(1 << 31), 1 << 31)


def json_int(v, lo, hi):
    """An integer in [lo, hi) written as a JSON number or a string holding
    one, or None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, str):
        if not INT_TEXT.match(v):
            return None
        try:
            v = int(v) if re.fullmatch(r"-?[0-9]+", v) else float(v)
        except (ValueError, OverflowError):
            return None
    if isinstance(v, float):
        if not v.is_integer():
            return None
        v = int(v)
    if not isinstance(v, int) or not lo <= v < hi:
        return None
    return v


def encode_json_message(msg, name):
    """Encodes a message dict as a protobuf JSON object, defaults left out."""
    out = {}
    for f in sorted(MESSAGES[name], key=lambda f: f.number):
        value = msg.get(f.json)
        if value is None or (f.kind != "message" and value == default(f)):
            continue
        if f.kind == "message":
            out[f.json] = [encode_json_message(v, f.ref) for v in value] if f.repeated else encode_json_message(value, f.ref)
        elif f.kind == "enum":
            out[f.json] = [enum_name(f.ref, v) for v in value] if f.repeated else enum_name(f.ref, value)
        elif f.kind == "double" and not f.repeated and (math.isnan(value) or math.isinf(value)):
            out[f.json] = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        else:
            out[f.json] = value
    return out


def enum_name(enum, v):
    names = ENUMS[enum]
    return names[v] if 0 <= v < len(names) else v


# --------------------------------------------------------------------------
# Numbers as the Go functions read and write them


DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
SPECIAL = re.compile(r"[+-]?(inf|infinity|nan)\Z", re.IGNORECASE)
HEX = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+\Z")


def parse_float(s):
    """Reads a number as Go's strconv.ParseFloat does, or returns None.

    Go takes the syntax of Go's float literals, underscores between digits
    included ("1_000"); it refuses surrounding spaces, which Python's float()
    takes, and "1e999", which Python's float() makes infinite.
    """
    if "_" in s:
        if not underscores_ok(s):
            return None
        s = s.replace("_", "")
    if SPECIAL.match(s):
        return float(s)
    if DECIMAL.match(s):
        x = float(s)
    elif HEX.match(s):
        x = float.fromhex(s)
    else:
        return None
    return None if math.isinf(x) else x


def underscores_ok(s):
    """Reports whether every underscore in a number separates two digits (or a
    base prefix and a digit), as Go's number syntax asks."""
    s = s[1:] if s[:1] in ("+", "-") else s
    hex_digits = s[:2].lower() == "0x"
    saw, i = "^", 0  # the class of the last character: ^ start, 0 digit, _ underscore, ! other
    if s[:2].lower() in ("0x", "0o", "0b"):
        saw, i = "0", 2
    for c in s[i:]:
        if c in "0123456789" or (hex_digits and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def parse_number(s):
    """A finite number, or an error message for the parameter's field."""
    x = parse_float(s.strip())
    if x is None:
        raise ValueError(f"{go_quote(s)} is not a number")
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{go_quote(s)} is not a finite number")
    return x


def shortest_digits(x):
    """The shortest digits that read back as abs(x) > 0, and the position of
    the decimal point: abs(x) == 0.<digits> * 10**point."""
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    return stripped.rstrip("0"), point


def format_shortest(x, exponent):
    """Formats x in the shortest form that reads back exactly, as Go's
    strconv.FormatFloat(x, 'f', -1, 64), or with exponent as 'g', -1."""
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    sign = "-" if x < 0 else ""
    digits, point = shortest_digits(x)
    e = point - 1
    if exponent and (e < -4 or e >= 6):  # where Go's 'g' switches to exponent form
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def decimals_of(s):
    """The digits a number written as s has after the point, exponent
    included: "0.01" has 2, "2.5e-4" has 5 (at most 30)."""
    s = s.strip().lower()
    exp = 0
    if "e" in s:
        s, _, e = s.partition("e")
        try:
            exp = int(e)
        except ValueError:
            exp = 0
    d = len(s) - s.index(".") - 1 if "." in s else 0
    return min(max(d - exp, 0), 30)


def go_round(x):
    """Rounds half away from zero, as Go's math.Round."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def close_to(a, b, scale):
    """Compares two numbers with a tolerance that forgives the rounding of
    decimal steps (0.1 + 0.2) but nothing a user could mean."""
    tol = 1e-9 * max(abs(a), abs(b), abs(scale))
    return a == b if tol == 0 else abs(a - b) <= tol


# --------------------------------------------------------------------------
# Search spaces
#
# The same rules and messages as pkg/searchspace. A point holds one float per
# parameter: the number itself for double and int parameters, the index into
# the list for discrete and categorical ones. Each parameter maps the unit
# interval to its values through its prior's quantile function, so a uniform
# draw from the unit cube is a draw from the prior.

DOUBLE, INT, DISCRETE, CATEGORICAL = 1, 2, 3, 4
TYPE_NAMES = {DOUBLE: "double", INT: "int", DISCRETE: "discrete", CATEGORICAL: "categorical"}
UNIFORM, LOG_UNIFORM, NORMAL, LOG_NORMAL = 1, 2, 3, 4
DISTRIBUTION_NAMES = {UNIFORM: "uniform", LOG_UNIFORM: "logUniform", NORMAL: "normal", LOG_NORMAL: "logNormal"}
MAX_EXACT_INT = 1 << 53
MAX_LIST_LENGTH = 100000
NORMAL_HALF_WIDTH = 3.0  # [min, max] spans ±3 standard deviations
STANDARD_NORMAL = statistics.NormalDist()


class Param:
    """One parameter of a search space, checked."""

    def __init__(self, spec, path):
        fs = get(spec, "feasibleSpace") or {}
        self.name = get(spec, "name", "")
        fs_path = path + ".feasibleSpace"
        ptype = get(spec, "parameterType", 0)
        if ptype == 0:
            raise invalid(path + ".parameterType", "missing or unknown parameter type: use DOUBLE, INT, DISCRETE or CATEGORICAL")
        if ptype not in TYPE_NAMES:
            raise invalid(path + ".parameterType", f"unknown parameter type {ptype}: use DOUBLE, INT, DISCRETE or CATEGORICAL")
        self.type = ptype
        dist = get(fs, "distribution", 0)
        if dist not in (0, UNIFORM, LOG_UNIFORM, NORMAL, LOG_NORMAL):
            raise invalid(fs_path + ".distribution", f"unknown distribution {dist}: use UNIFORM, LOG_UNIFORM, NORMAL or LOG_NORMAL")
        self.distribution = dist or UNIFORM
        self.min = self.max = self.step = 0.0
        self.list, self.values = [], []
        self.n = 0  # number of values of a finite parameter, 0 when continuous
        self.decimals, self.exponent = 0, False
        if self.type in (DISCRETE, CATEGORICAL):
            self._parse_list(fs, fs_path)
        else:
            self._parse_range(fs, fs_path)

    @property
    def type_name(self):
        return TYPE_NAMES[self.type]

    @property
    def log(self):
        return self.distribution in (LOG_UNIFORM, LOG_NORMAL)

    def _parse_list(self, fs, path):
        if self.distribution != UNIFORM:
            raise invalid(path + ".distribution", f"a {self.type_name} parameter takes no distribution: its values are equally likely")
        for name in ("min", "max", "step"):
            if get(fs, name, ""):
                raise invalid(f"{path}.{name}", f"a {self.type_name} parameter takes its values from list, not {name}")
        values = get(fs, "list", [])
        if not values:
            raise invalid(path + ".list", f"empty list: a {self.type_name} parameter needs at least one value")
        if len(values) > MAX_LIST_LENGTH:
            raise invalid(path + ".list", f"{len(values)} values: at most {MAX_LIST_LENGTH} are allowed")
        seen = {}
        for i, v in enumerate(values):
            if self.type == CATEGORICAL and v == "":
                raise invalid(f"{path}.list[{i}]", "empty value")
            if v in seen:
                raise invalid(f"{path}.list[{i}]", f"{go_quote(v)} repeats list[{seen[v]}]")
            seen[v] = i
        self.list = list(values)
        self.n = len(values)
        if self.type == CATEGORICAL:
            return
        for i, v in enumerate(values):
            try:
                self.values.append(parse_number(v))
            except ValueError as e:
                raise invalid(f"{path}.list[{i}]", f"{e}: a discrete parameter lists numbers (use categorical for strings)") from None
        # rank[r] is the list index of the r-th smallest value.
        self.rank = sorted(range(len(self.values)), key=lambda i: self.values[i])
        for r in range(1, len(self.rank)):
            a, b = self.rank[r - 1], self.rank[r]
            if close_to(self.values[a], self.values[b], 0):
                raise invalid(f"{path}.list[{max(a, b)}]", f"{go_quote(values[max(a, b)])} is the same number as list[{min(a, b)}]")

    def _parse_range(self, fs, path):
        if get(fs, "list", []):
            raise invalid(path + ".list", f"a {self.type_name} parameter takes min and max, not a list (use discrete or categorical for a list)")

        def bound(name):
            s = get(fs, name, "")
            if s == "":
                raise invalid(f"{path}.{name}", f"missing: a {self.type_name} parameter needs min and max")
            try:
                return self.parse(s)
            except ValueError as e:
                raise invalid(f"{path}.{name}", str(e)) from None

        self.min, self.max = bound("min"), bound("max")
        lo, hi, step = get(fs, "min", ""), get(fs, "max", ""), get(fs, "step", "")
        if self.type == INT and (abs(self.min) >= MAX_EXACT_INT or abs(self.max) >= MAX_EXACT_INT):
            raise invalid(path, f"int bounds must lie within ±{MAX_EXACT_INT - 1}, where every integer has an exact value")
        if self.min > self.max:
            raise invalid(path, f"min {lo} is greater than max {hi}")
        if self.log and self.min <= 0:
            raise invalid(path + ".min", f"{lo} must be above 0 for the {DISTRIBUTION_NAMES[self.distribution]} distribution")
        self.exponent = any(c in lo + hi + step for c in "eE")
        if step:
            try:
                self.step = self.parse(step)
            except ValueError as e:
                raise invalid(path + ".step", str(e)) from None
            if self.step <= 0:
                raise invalid(path + ".step", f"{step} must be above 0")
        elif self.type == INT or self.min == self.max:
            # A double with min = max has one value: count it, so that it is
            # finite like any stepped parameter.
            self.step = 1.0
        if self.step > 0:
            cells = math.floor((self.max - self.min) / self.step + 1e-9)
            if cells >= 1 << 53:
                raise invalid(path + ".step", f"more than 2^53 values between min and max at step {format_shortest(self.step, True)}: use a larger step")
            self.n = cells + 1
            self.decimals = max(decimals_of(lo), decimals_of(step))
        # The prior lives on [tlo, thi] in transformed space (log space for the
        # log distributions). For stepped parameters it reaches half a step
        # past the outer values, so that each value owns the mass of its cell.
        if self.n == 0:
            self.tlo, self.thi = self.transform(self.min), self.transform(self.max)
        elif self.n == 1:
            self.tlo = self.thi = self.transform(self.min)
        else:
            first, second = self.transform(self.at(0)), self.transform(self.at(1))
            last, before = self.transform(self.at(self.n - 1)), self.transform(self.at(self.n - 2))
            self.tlo, self.thi = first - (second - first) / 2, last + (last - before) / 2

    def transform(self, x):
        return math.log(x) if self.log else x

    def at(self, i):
        """The i-th value of a finite parameter."""
        if self.type in (DISCRETE, CATEGORICAL):
            return float(i)
        return self.min + i * self.step

    def index_of(self, v):
        """The position of v among a finite parameter's values, or None."""
        if self.type in (DISCRETE, CATEGORICAL):
            return int(v) if v == int(v) and 0 <= v < len(self.list) else None
        if self.n == 0:
            return None
        k = go_round((v - self.min) / self.step)
        if k < 0 or k >= self.n or not close_to(self.min + k * self.step, v, self.step):
            return None
        return int(k)

    def contains(self, v):
        if math.isnan(v) or math.isinf(v):
            return False
        if self.n > 0:
            return self.index_of(v) is not None
        return self.min <= v <= self.max

    def parse(self, s):
        """Reads a value written as a string; raises ValueError with the reason."""
        if self.type == CATEGORICAL:
            if s in self.list:
                return float(self.list.index(s))
            raise ValueError(f"{go_quote(s)} is not one of {quote_list(self.list)}")
        x = parse_number(s)
        if self.type == DISCRETE:
            for i, d in enumerate(self.values):
                if close_to(d, x, 0):
                    return float(i)
            raise ValueError(f"{go_quote(s)} is not one of {quote_list(self.list)}")
        if self.type == INT and x != math.trunc(x):
            raise ValueError(f"{go_quote(s)} is not an integer")
        return x

    def format(self, v):
        """Writes a value the way the user wrote the parameter's bounds or list."""
        if self.type in (DISCRETE, CATEGORICAL):
            return self.list[int(v)]
        if self.type == INT:
            return str(int(go_round(v)))
        if self.step > 0:
            s = f"{v:.{self.decimals}f}"
            if "." in s:
                s = s.rstrip("0").rstrip(".")
            if s == "-0":
                s = "0"
            return format_shortest(float(s), True) if self.exponent else s
        return format_shortest(v, self.exponent)

    def from_unit(self, u):
        """Maps u in [0, 1] to a value through the prior's quantile function."""
        u = min(max(u, 0.0), 1.0)
        if self.type in (DISCRETE, CATEGORICAL):
            r = min(int(u * len(self.list)), len(self.list) - 1)
            return float(self.rank[r] if self.type == DISCRETE else r)
        t = self.quantile(u)
        if self.n == 0:
            x = math.exp(t) if self.log else t
            return min(max(x, self.min), self.max)
        return self.at(self.nearest(t))

    def quantile(self, u):
        if self.distribution in (NORMAL, LOG_NORMAL):
            # A normal truncated to ±3 standard deviations around the middle.
            lo, hi = STANDARD_NORMAL.cdf(-NORMAL_HALF_WIDTH), STANDARD_NORMAL.cdf(NORMAL_HALF_WIDTH)
            z = STANDARD_NORMAL.inv_cdf(min(max(lo + u * (hi - lo), 1e-300), 1 - 1e-16))
            mid, sd = (self.tlo + self.thi) / 2, (self.thi - self.tlo) / (2 * NORMAL_HALF_WIDTH)
            return min(max(mid + z * sd, self.tlo), self.thi)
        # Weighted rather than tlo + u*(thi-tlo): that width can overflow.
        return self.tlo * (1 - u) + self.thi * u

    def nearest(self, t):
        """The index of the stepped value closest to t in transformed space."""
        if self.n == 1:
            return 0
        x = math.exp(t) if self.log else t
        k = math.floor((x - self.min) / self.step)
        if k < 0:
            return 0
        if k >= self.n - 1:
            return self.n - 1
        if abs(t - self.transform(self.at(k + 1))) < abs(t - self.transform(self.at(k))):
            k += 1
        return k


def quote_list(values):
    shown = [go_quote(s) for s in values[:10]]
    if len(values) > 10:
        shown.append(f"... ({len(values) - 10} more)")
    return "[" + ", ".join(shown) + "]"


class Space:
    """A checked search space: the experiment's parameters, in order."""

    def __init__(self, specs):
        if not specs:
            raise invalid("parameters", "no parameters: give at least one, each with a name, a parameterType and a feasibleSpace")
        self.params, self.index = [], {}
        for i, spec in enumerate(specs):
            path = f"parameters[{i}]"
            name = get(spec, "name", "")
            if not name:
                raise invalid(path + ".name", "missing name")
            path = f"{path} ({go_quote(name)})"
            if name in self.index:
                raise invalid(path + ".name", f"duplicate name: parameters[{self.index[name]}] has the same name")
            if get(spec, "parentName", "") or get(spec, "parentValues", []):
                # Conditional parameters are refused, by name, rather than
                # assigned when they are inactive.
                raise invalid(path + ".parentName",
                              f"this function (random search in Python) does not take conditional parameters, "
                              f"and {go_quote(name)} depends on {go_quote(get(spec, 'parentName', ''))}: "
                              f"remove the condition, or use a Knobs function that takes them, such as random or tpe")
            self.params.append(Param(spec, path))
            self.index[name] = i

    def size(self):
        """The number of points of a finite space, None if one parameter is continuous."""
        n = 1
        for p in self.params:
            if p.n == 0:
                return None
            n *= p.n
        return n

    def point_at(self, i):
        """The i-th point of a finite space, the last parameter changing fastest."""
        pt = [0.0] * len(self.params)
        for j in range(len(self.params) - 1, -1, -1):
            n = self.params[j].n
            pt[j] = self.params[j].at(i % n)
            i //= n
        return pt

    def index_of(self, pt):
        """The position of a point in the order of point_at, or None when it is off the grid."""
        i = 0
        for p, v in zip(self.params, pt):
            k = p.index_of(v)
            if k is None:
                return None
            i = i * p.n + k
        return i

    def sample(self, rng):
        return [p.from_unit(rng.random()) for p in self.params]

    def contains(self, pt):
        return len(pt) == len(self.params) and all(p.contains(v) for p, v in zip(self.params, pt))

    def key(self, pt):
        """Identifies a point: two points share a key when they format alike."""
        return "\0".join(p.format(v) for p, v in zip(self.params, pt))

    def format(self, pt):
        return [{"name": p.name, "value": p.format(v)} for p, v in zip(self.params, pt)]

    def parse_assignments(self, assignments, path):
        """Reads a trial's assignments into a point: every parameter once, nothing else."""
        pt = [None] * len(self.params)
        for i, a in enumerate(assignments):
            name = get(a, "name", "")
            j = self.index.get(name)
            if j is None:
                raise invalid(f"{path}.assignments[{i}]", f"unknown parameter {go_quote(name)}")
            if pt[j] is not None:
                raise invalid(f"{path}.assignments[{i}]", f"parameter {go_quote(name)} is assigned twice")
            try:
                pt[j] = self.params[j].parse(get(a, "value", ""))
            except ValueError as e:
                raise invalid(f"{path}.assignments[{i}]", f"parameter {go_quote(name)}: {e}") from None
        for p, v in zip(self.params, pt):
            if v is None:
                raise invalid(path + ".assignments", f"parameter {go_quote(p.name)} is not assigned")
        return pt


# --------------------------------------------------------------------------
# Random search


class Problem:
    """What a request says about the experiment, checked."""

    def __init__(self, experiment):
        spec = get(experiment, "experimentSpec")
        if spec is None:
            raise invalid("experiment", "missing: the request needs the experiment with its experimentSpec")
        try:
            self.space = Space(get(get(spec, "parameterSpecs"), "parameters", []))
        except Error as e:
            raise Error(e.code, "experiment.experimentSpec.parameterSpecs." + e.message) from None
        self.name = get(experiment, "name", "")
        objective = get(spec, "objective")
        if get(objective, "type", 0) not in (0, 1, 2):
            raise invalid("experiment.experimentSpec.objective.type",
                          f"unknown objective type {get(objective, 'type')}: use MINIMIZE or MAXIMIZE")
        self.metric = get(objective, "objectiveMetricName", "")
        self.seed = None
        for i, s in enumerate(get(get(spec, "algorithm"), "algorithmSettings", [])):
            path = f"experiment.experimentSpec.algorithm.algorithmSettings[{i}]"
            name, value = get(s, "name", ""), get(s, "value", "")
            if name != RANDOM_STATE:
                raise invalid(path, f"unknown setting {go_quote(name)}: this algorithm takes {RANDOM_STATE}")
            if not re.fullmatch(r"[+-]?[0-9]+", value.strip()) or not 0 <= int(value.strip()) < 1 << 63:
                raise invalid(path, f"{RANDOM_STATE}: {go_quote(value)} is not an integer of at least 0")
            self.seed = int(value.strip())  # a setting named twice keeps its last value

    def parse_trials(self, trials):
        """The points of the trials handed out so far, each checked."""
        points = []
        for i, t in enumerate(trials):
            path = f"trials[{i}]"
            if get(t, "name", ""):
                path += f" ({go_quote(get(t, 'name'))})"
            assignments = get(get(get(t, "spec"), "parameterAssignments"), "assignments", [])
            points.append(self.space.parse_assignments(assignments, path + ".spec.parameterAssignments"))
            for m in get(get(get(t, "status"), "observation"), "metrics", []):
                if not self.metric or get(m, "name", "") != self.metric:
                    continue
                v = parse_float(get(m, "value", ""))
                if v is None or math.isnan(v) or math.isinf(v):
                    raise invalid(path + ".status.observation",
                                  f"metric {go_quote(get(m, 'name', ''))}: {go_quote(get(m, 'value', ''))} is not a finite number")
        return points

    def rng(self, trials):
        """The generator of one call: seeded from random_state (or the
        experiment's name) and the number of trials so far, so that a call
        reproduces and successive calls differ."""
        seed = self.seed if self.seed is not None else fnv1a64(self.name.encode("utf-8"))
        return random.Random(seed << 64 | trials)


# --------------------------------------------------------------------------
# The history in columns
#
# A request may bring its trials in columns (history, a TrialColumns) rather
# than in trials: the controller does from 1000 trials on. expand_history
# gives back the trials as trials would hold them, string for string, after
# checking the columns as the Go functions do (the same messages).

MAX_INT64 = (1 << 63) - 1
COLUMN_FIELDS = {DOUBLE: "doubles", INT: "ints", DISCRETE: "indices", CATEGORICAL: "indices"}


def number_text(x, number_format):
    """A number of a column as the string a trial holds (NumberFormat)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return format_shortest(x, number_format == 1)


def check_ascending(path, at, n):
    for i, a in enumerate(at):
        if a >= n:
            raise invalid(f"{path}[{i}]", f"{a} is past the last of {n} rows")
        if i > 0 and a <= at[i - 1]:
            raise invalid(f"{path}[{i}]", f"{a} after {at[i - 1]}: give each position once, in ascending order")


def check_texts(path, texts, n):
    at, values = get(texts, "at", []), get(texts, "values", [])
    if len(at) != len(values):
        raise invalid(path, f"{len(at)} positions for {len(values)} values: give one position for each")
    check_ascending(path + ".at", at, n)
    return dict(zip(at, values))


def check_format(path, number_format):
    if number_format not in (0, 1):
        raise invalid(path + ".format", f"unknown number format {number_format}: use POSITIONAL or SHORTEST")


def expand_history(specs, h):
    """The trials of a history in columns, as message dicts."""
    conditions = get(h, "conditions", [])
    n = len(conditions)
    plain, plain_rows = get(h, "plain", []), get(h, "plainRows", [])
    if len(plain_rows) != len(plain):
        raise invalid("history.plainRows", f"{len(plain_rows)} rows for {len(plain)} plain trials: give one row for each")
    total = n + len(plain)
    check_ascending("history.plainRows", plain_rows, total)
    first = get(h, "nameFirst", 0)
    if total > 0 and first > MAX_INT64 - (total - 1):
        raise invalid("history.nameFirst", f"{first}: the name of row {total - 1} would overflow a 64-bit integer")
    names = check_texts("history.names", get(h, "names"), total)
    plain_set = set(plain_rows)
    for i, at in enumerate(get(get(h, "names"), "at", [])):
        if at in plain_set:
            raise invalid(f"history.names.at[{i}]", f"row {at} is a plain trial, which has its own name")
    columns = get(h, "parameters", [])
    if len(columns) != len(specs):
        raise invalid("history.parameters", f"{len(columns)} columns for {len(specs)} parameters: "
                      "give one for each parameter, in the order of parameterSpecs")
    values = []  # each parameter's strings, by column row
    for j, (spec, col) in enumerate(zip(specs, columns)):
        path = f"history.parameters[{j}]"
        typ = get(spec, "parameterType", 0)
        if typ not in COLUMN_FIELDS:
            raise invalid(path, f"parameter {go_quote(get(spec, 'name', ''))} has no type: its column cannot be read")
        for field in ("doubles", "ints", "indices"):
            got = len(get(col, field, []))
            if COLUMN_FIELDS.get(typ) == field and got != n:
                raise invalid(f"{path}.{field}", f"{got} values for {n} rows: give one for each row that is not plain")
            if COLUMN_FIELDS.get(typ) != field and got > 0:
                raise invalid(f"{path}.{field}", f"parameter {go_quote(get(spec, 'name', ''))} is "
                              f"{enum_name('ParameterType', typ)}: its values go in the field of its type")
        number_format = get(col, "format", 0)
        check_format(path, number_format)
        lst = get(get(spec, "feasibleSpace"), "list", [])
        for k, i in enumerate(get(col, "indices", [])):
            if i >= len(lst):
                raise invalid(f"{path}.indices[{k}]", f"parameter {go_quote(get(spec, 'name', ''))}: "
                              f"{i} is not an index of its list of {len(lst)} values")
        texts = check_texts(path + ".texts", get(col, "texts"), n)
        if typ == DOUBLE:
            strs = [number_text(x, number_format) for x in get(col, "doubles", [])]
        elif typ == INT:
            strs = [str(x) for x in get(col, "ints", [])]
        else:
            strs = [lst[i] for i in get(col, "indices", [])]
        for k, text in texts.items():
            strs[k] = text
        values.append(strs)
    metrics = []  # each metric's {column row: value}
    for c, col in enumerate(get(h, "metrics", [])):
        path = f"history.metrics[{c}]"
        absent = get(col, "absent", [])
        check_ascending(path + ".absent", absent, n)
        present = n - len(absent)
        doubles = get(col, "values", [])
        name = get(col, "name", "")
        if len(doubles) != present:
            raise invalid(path + ".values", f"{len(doubles)} values for the {present} rows that report metric "
                          f"{go_quote(name)}: give one for each")
        number_format = get(col, "format", 0)
        check_format(path, number_format)
        texts = check_texts(path + ".texts", get(col, "texts"), present)
        points, lengths = 0, get(col, "curveLengths", [])
        if lengths:
            if len(lengths) != present:
                raise invalid(path + ".curveLengths", f"{len(lengths)} curves for {present} values: "
                              "give one length for each value, or none")
            points = sum(lengths)
        steps, curve = get(col, "curveSteps", []), get(col, "curveValues", [])
        if len(steps) != points or len(curve) != points:
            raise invalid(path + ".curveSteps", f"{len(steps)} steps and {len(curve)} values for curves of "
                          f"{points} points: give one of each for every point")
        check_texts(path + ".curveTexts", get(col, "curveTexts"), points)
        # Random search reads no curves: they are checked, not rebuilt.
        absent_set = set(absent)
        rows = [k for k in range(n) if k not in absent_set]
        metrics.append((name, {k: texts[pos] if pos in texts else number_text(doubles[pos], number_format)
                               for pos, k in enumerate(rows)}))
    out, prefix, plain_at, k = [], get(h, "namePrefix", ""), dict(zip(plain_rows, plain)), 0
    for i in range(total):
        if i in plain_at:
            out.append(plain_at[i])
            continue
        observed = [{"name": name, "value": by_row[k]} for name, by_row in metrics if k in by_row]
        status = {"condition": conditions[k]}
        if observed:
            status["observation"] = {"metrics": observed}
        out.append({
            "name": names.get(i, prefix + str(first + i)),
            "spec": {"parameterAssignments": {"assignments": [
                {"name": get(spec, "name", ""), "value": values[j][k]} for j, spec in enumerate(specs)]}},
            "status": status,
        })
        k += 1
    return out


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# Below this size it is cheaper to list a finite space's unseen points than to
# keep drawing when draws keep repeating.
ENUMERATE_BELOW = 1 << 20


def suggest(space, history, count, rng):
    """Returns up to count new points and whether the space is exhausted."""
    size = space.size()
    if size is not None:
        return suggest_finite(space, history, count, rng, size)
    # A continuous parameter makes repeats vanishingly rare: draw until the
    # reply is full.
    seen = {space.key(pt) for pt in history}
    out, tries = [], 0
    while len(out) < count:
        if tries > 64 * count + 1024:
            # A range so narrow that it holds few distinct numbers.
            raise invalid("experiment.experimentSpec.parameterSpecs",
                          f"the search space holds too few distinct points for {count} more suggestions: widen the ranges of the double parameters")
        tries += 1
        pt = space.sample(rng)
        k = space.key(pt)
        if k not in seen:
            seen.add(k)
            out.append(pt)
    return out, False


def suggest_finite(space, history, count, rng, size):
    """Suggests from a finite space, its points identified by their index."""
    taken = {i for i in map(space.index_of, history) if i is not None}
    out = []

    def take(i):
        if i not in taken:
            taken.add(i)
            out.append(space.point_at(i))

    if size - len(taken) <= count:
        # Everything left fits in this reply: hand it all out, and say so.
        for i in range(size):
            take(i)
        rng.shuffle(out)
        return out, True
    # Draw from the prior; give up on it when repeats dominate, which happens
    # when most of the likely points are taken.
    for _ in range(64 * count + 1024):
        if len(out) == count:
            break
        take(space.index_of(space.sample(rng)))
    if len(out) < count and size <= ENUMERATE_BELOW:
        left = [i for i in range(size) if i not in taken]
        for i in rng.sample(left, count - len(out)):
            take(i)
    while len(out) < count:
        # A large space whose likely points are taken: draw uniformly.
        take(rng.randrange(size))
    return out, False


# --------------------------------------------------------------------------
# The service: the Suggestion API over message dicts


def get_suggestions(req):
    n = get(req, "requestNumber", 0)
    if n <= 0 or n > MAX_REQUEST_NUMBER:
        raise invalid("requestNumber", f"{n} is out of range: ask for 1 to {MAX_REQUEST_NUMBER} suggestions")
    experiment = get(req, "experiment")
    problem = Problem(experiment)
    trials = get(req, "trials", [])
    if get(req, "history") is not None:
        if trials:
            raise invalid("history", f"the request also has {len(trials)} trials: "
                          "send the history in trials or in history, not both")
        specs = get(get(get(experiment, "experimentSpec"), "parameterSpecs"), "parameters", [])
        trials = expand_history(specs, get(req, "history"))
        try:
            history = problem.parse_trials(trials)
        except Error as e:
            raise Error(e.code, "history: " + e.message) from None
    else:
        history = problem.parse_trials(trials)
    points, exhausted = suggest(problem.space, history, n, problem.rng(len(trials)))
    check(problem.space, history, points, n, exhausted)
    name = get(get(get(experiment, "experimentSpec"), "algorithm"), "algorithmName", "") or ALGORITHM
    # Random search carries no state: the reply's algorithm settings are empty.
    return {
        "parameterAssignments": [{"assignments": problem.space.format(pt)} for pt in points],
        "algorithm": {"algorithmName": name},
        "searchSpaceExhausted": exhausted,
    }


def validate_algorithm_settings(req):
    Problem(get(req, "experiment"))
    return {}


def check(space, history, points, count, exhausted):
    """Holds the algorithm to its contract before its answer leaves the
    process: a fault here is ours, not the caller's."""
    if len(points) > count or (len(points) < count and not exhausted):
        raise Error("Internal", f"random search returned {len(points)} suggestions for {count} asked")
    seen = {space.key(pt) for pt in history}
    for pt in points:
        if not space.contains(pt):
            raise Error("Internal", f"random search suggested a point outside the search space: {space.format(pt)}")
        k = space.key(pt)
        if k in seen:
            raise Error("Internal", f"random search suggested one point twice: {space.format(pt)}")
        seen.add(k)


SERVICES = {
    TYPE_SUGGESTION_REQUEST: ("GetSuggestionsRequest", get_suggestions, TYPE_SUGGESTION_REPLY, "GetSuggestionsReply"),
    TYPE_VALIDATE_REQUEST: ("ValidateAlgorithmSettingsRequest", validate_algorithm_settings, TYPE_VALIDATE_REPLY, "ValidateAlgorithmSettingsReply"),
}


# --------------------------------------------------------------------------
# CloudEvents over HTTP

Event = namedtuple("Event", "id source type subject specversion datacontenttype data")


def media_type(content_type):
    return content_type.split(";", 1)[0].strip().lower()


def read_event(headers, body):
    """Reads a CloudEvent in binary or structured mode. The data is bytes, or
    for structured JSON the parsed value, or None when there is none."""
    content_type = headers.get("Content-Type", "")
    if media_type(content_type) == CONTENT_TYPE_STRUCTURED:
        try:
            envelope = load_json(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise invalid("", f"not a valid CloudEvent: structured event is not JSON: {e}") from None
        if not isinstance(envelope, Pairs):
            raise invalid("", "not a valid CloudEvent: a structured event is a JSON object")
        attrs = dict(envelope)
        for name in ("id", "source", "type", "subject", "specversion", "datacontenttype", "time"):
            if name in attrs and attrs[name] is not None and not isinstance(attrs[name], str):
                raise invalid("", f"not a valid CloudEvent: {name}: want a string, got {json_kind(attrs[name])}")
        if attrs.get("data") is not None and attrs.get("data_base64") is not None:
            raise invalid("", "not a valid CloudEvent: data and data_base64 are both set")
        ct = attrs.get("datacontenttype") or ""
        data = attrs.get("data")
        if attrs.get("data_base64") is not None:
            try:
                data = base64.b64decode(attrs["data_base64"], validate=True)
            except (ValueError, TypeError) as e:
                raise invalid("", f"not a valid CloudEvent: data_base64: {e}") from None
        elif data is not None and ct and not is_json(ct):
            # Non-JSON data sent as a JSON string is the string's bytes.
            data = data.encode("utf-8") if isinstance(data, str) else json.dumps(pairs_to_plain(data)).encode()
        ev = Event(attrs.get("id") or "", attrs.get("source") or "", attrs.get("type") or "",
                   attrs.get("subject") or "", attrs.get("specversion") or "", ct, data)
        when = attrs.get("time")
    elif "ce-specversion" in headers:
        def attr(name):
            # http.server reads header bytes as Latin-1; they are UTF-8.
            return headers.get(name, "").encode("latin-1").decode("utf-8", "replace")
        ev = Event(attr("ce-id"), attr("ce-source"), attr("ce-type"), attr("ce-subject"),
                   attr("ce-specversion"), content_type, body or None)
        when = headers.get("ce-time")
    else:
        raise invalid("", "not a CloudEvent: send binary mode (ce-specversion, ce-type, ce-source and ce-id headers) "
                      "or structured mode (Content-Type: application/cloudevents+json)")
    return ev, when


def pairs_to_plain(v):
    if isinstance(v, Pairs):
        return {k: pairs_to_plain(x) for k, x in v}
    if isinstance(v, list):
        return [pairs_to_plain(x) for x in v]
    return v


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
MEDIA_TYPE = re.compile(rf'\s*{_TOKEN}(/{_TOKEN})?(\s*;\s*{_TOKEN}=({_TOKEN}|"([^"\\]|\\.)*"))*\s*(;\s*)?\Z')


def check_event(ev, when):
    """Checks the required attributes, as the CloudEvents SDK does."""
    problems = []
    if ev.datacontenttype and not MEDIA_TYPE.match(ev.datacontenttype):
        problems.append(f"datacontenttype: {go_quote(ev.datacontenttype)} is not an RFC 2046 media type")
    if ev.specversion not in ("1.0", "0.3"):
        problems.append(f"specversion: unknown version {go_quote(ev.specversion)}: send 1.0")
    for name in ("id", "source", "type"):
        if not getattr(ev, name):
            problems.append(f"{name}: MUST be a non-empty string")
    if when:
        try:
            datetime.datetime.fromisoformat(when.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            problems.append(f"time: {go_quote(when)} is not in RFC 3339 format")
    if problems:
        raise invalid("", "not a valid CloudEvent: " + "; ".join(problems))


def is_json(content_type):
    return media_type(content_type) in (CONTENT_TYPE_JSON, "text/json")


def data_content_type(ev):
    """The media type of the event's data: JSON when it says nothing."""
    if not ev.datacontenttype:
        return CONTENT_TYPE_JSON
    mt = media_type(ev.datacontenttype)
    if mt in (CONTENT_TYPE_JSON, "text/json"):
        return CONTENT_TYPE_JSON
    if mt in (CONTENT_TYPE_PROTOBUF, "application/x-protobuf", "application/vnd.google.protobuf"):
        return CONTENT_TYPE_PROTOBUF
    raise invalid("", f"datacontenttype {go_quote(ev.datacontenttype)}: send {CONTENT_TYPE_JSON} (protobuf JSON) "
                  f"or {CONTENT_TYPE_PROTOBUF} (binary protobuf)")


def decode_data(ev, content_type, message):
    data = ev.data
    if data is None or data == b"":
        if content_type == CONTENT_TYPE_PROTOBUF:
            return {}  # an empty message encodes to no bytes
        raise invalid("", f"event has no data: send a {message} as {content_type}")
    try:
        if content_type == CONTENT_TYPE_PROTOBUF:
            if not isinstance(data, bytes):
                raise DecodeError("binary protobuf in a structured event goes in data_base64")
            return decode_proto(data, message)
        return decode_json_message(load_json(data) if isinstance(data, bytes) else data, message)
    except (DecodeError, ValueError, UnicodeDecodeError, RecursionError) as e:
        raise invalid("", f"data is not a {message} in {content_type}: {e}") from None


def handle_event(headers, body):
    """Serves one event; returns the request event (or None) and the reply:
    (event type, data content type, data bytes)."""
    ev, when = read_event(headers, body)
    try:
        check_event(ev, when)
        content_type = data_content_type(ev)
        if ev.type not in SERVICES:
            raise invalid("", f"event type {go_quote(ev.type)}: send {TYPE_SUGGESTION_REQUEST} or {TYPE_VALIDATE_REQUEST}")
        in_message, serve, reply_type, out_message = SERVICES[ev.type]
        reply = serve(decode_data(ev, content_type, in_message))
        if content_type == CONTENT_TYPE_PROTOBUF:
            data = encode_proto(reply, out_message)
        else:
            data = json.dumps(encode_json_message(reply, out_message), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return ev, (reply_type, content_type, data)
    except Exception as e:
        e.event = ev  # for the error reply and the log
        raise


def log(level, msg, **attrs):
    """Writes one JSON line to stderr."""
    line = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(), "level": level, "msg": msg}
    line.update(attrs)
    sys.stderr.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stderr.flush()


class InFlight:
    """Counts requests being served, so that shutting down can wait for them."""

    def __init__(self):
        self.cond = threading.Condition()
        self.count = 0

    def __enter__(self):
        with self.cond:
            self.count += 1

    def __exit__(self, *_):
        with self.cond:
            self.count -= 1
            self.cond.notify_all()

    def wait(self, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: self.count == 0, timeout)


IN_FLIGHT = InFlight()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "knobs-function-python"
    timeout = 120  # close idle keep-alive connections
    # Headers and body go out in separate writes: without this, Nagle's
    # algorithm and delayed acknowledgements hold the body back for 40 ms.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        pass  # one JSON line per event instead

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/healthz":
            self.send_text(200, b"ok\n")
        else:
            self.not_post()

    def do_HEAD(self):
        if self.path.split("?", 1)[0] == "/healthz":
            self.send_text(200, b"", length=3)
        else:
            self.not_post()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = lambda self: self.not_post()

    def send_text(self, status, body, length=None):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def not_post(self):
        start = time.monotonic()
        self.drain()
        self.send_event(405, None, TYPE_ERROR, CONTENT_TYPE_JSON,
                        error_data("Unimplemented", f"method {self.command}: send CloudEvents with POST"), allow=True)
        log("INFO", "event", algorithm=ALGORITHM, code="Unimplemented", ms=millis(start))

    def drain(self):
        """Reads and drops a request body so the connection can be reused."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        if "Transfer-Encoding" in self.headers or n > MAX_REQUEST_BYTES:
            self.close_connection = True
        elif n > 0:
            self.rfile.read(n)

    def read_body(self):
        """The request body, or an Error when it is over the limit."""
        too_big = Error("ResourceExhausted", f"request body over {MAX_REQUEST_BYTES} bytes: send fewer trials or raise the function's limit")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                try:
                    size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                except ValueError:
                    self.close_connection = True
                    raise invalid("", "malformed chunked request body") from None
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                if len(body) + size > MAX_REQUEST_BYTES:
                    self.close_connection = True
                    raise too_big
                body += self.rfile.read(size)
                self.rfile.readline()
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise invalid("", "bad Content-Length") from None
        if n > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise too_big
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        with IN_FLIGHT:
            self.serve_event()

    def serve_event(self):
        start = time.monotonic()
        ev, code = None, "OK"
        self.replied = False
        try:
            try:
                body = self.read_body()
                ev, (reply_type, content_type, data) = handle_event(self.headers, body)
                self.send_event(200, ev, reply_type, content_type, data)
            except Error as e:
                ev, code = getattr(e, "event", None), e.code
                self.send_event(HTTP_STATUS.get(e.code, 500), ev, TYPE_ERROR, CONTENT_TYPE_JSON, error_data(e.code, e.message))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a fault of the function: log it, keep serving
            ev, code = getattr(e, "event", None), "Internal"
            log("ERROR", "fault serving event", algorithm=ALGORITHM, error=repr(e), stack=traceback.format_exc())
            if self.replied:
                self.close_connection = True  # too late for an error reply
                return
            self._headers_buffer = []  # drop what a failed reply began
            try:
                self.send_event(500, ev, TYPE_ERROR, CONTENT_TYPE_JSON,
                                error_data("Internal", "internal error: the function failed on this request; it has been logged"))
            except OSError:
                self.close_connection = True
        attrs = {"algorithm": ALGORITHM, "code": code, "ms": millis(start)}
        if ev is not None:
            attrs.update(type=ev.type, id=ev.id, subject=ev.subject)
        log("INFO", "event", **attrs)

    def send_event(self, status, request, typ, content_type, data, allow=False):
        """Replies with a binary-mode CloudEvent, as the Go functions do."""
        self.send_response(status)
        if allow:
            self.send_header("Allow", "POST")
        self.send_header("Ce-Id", str(uuid.uuid4()))
        if request is not None and request.id:
            # Tie the reply to its request for tracing.
            self.send_header("Ce-Knobsrequestid", header_value(request.id))
        self.send_header("Ce-Source", SOURCE)
        self.send_header("Ce-Specversion", "1.0")
        if request is not None and request.subject:
            self.send_header("Ce-Subject", header_value(request.subject))
        self.send_header("Ce-Time", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.send_header("Ce-Type", typ)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.replied = True
        if self.command != "HEAD":
            self.wfile.write(data)


def header_value(s):
    """A header value as Go's net/http writes it: UTF-8 bytes, newlines
    turned to spaces so that a value cannot start a header of its own.
    (send_header writes a str as Latin-1, one byte a character.)"""
    return s.replace("\r", " ").replace("\n", " ").encode("utf-8").decode("latin-1")


def error_data(code, message):
    return json.dumps({"code": code, "message": message}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def millis(start):
    return round((time.monotonic() - start) * 1000, 3)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        """Logs a fault outside any request as a JSON line; a client hanging
        up on an idle connection is no fault."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        log("ERROR", "fault serving connection", algorithm=ALGORITHM, error=repr(exc),
            stack=traceback.format_exc())

    def server_bind(self):
        # Listen on IPv6 and IPv4 alike where the host has IPv6.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    port = os.environ.get("PORT") or DEFAULT_PORT
    try:
        Server.address_family = socket.AF_INET6
        server = Server(("::", int(port)), Handler)
    except (OSError, ValueError):
        try:
            Server.address_family = socket.AF_INET
            server = Server(("", int(port)), Handler)
        except (OSError, ValueError) as e:
            log("ERROR", "function stopped", algorithm=ALGORITHM,
                error=f"listening on port {port} (set $PORT to change it): {e}")
            sys.exit(1)

    def stop(signum, _frame):
        # shutdown() waits for serve_forever to return, so call it elsewhere.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("INFO", "serving", algorithm=ALGORITHM, address=f":{server.server_address[1]}")
    server.serve_forever()
    # Stop taking connections; let the requests in flight finish.
    log("INFO", "shutting down", algorithm=ALGORITHM, timeout=f"{SHUTDOWN_TIMEOUT:g}s")
    server.socket.close()
    if not IN_FLIGHT.wait(SHUTDOWN_TIMEOUT):
        log("WARN", "requests still in flight at the shutdown timeout", algorithm=ALGORITHM)


if __name__ == "__main__":
    main()
