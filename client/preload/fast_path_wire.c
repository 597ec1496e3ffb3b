/* fast_path_wire; see fast_path_wire.h. */
#include "client/preload/fast_path_wire.h"

#include <string.h>

/* proto/fast_path.proto's field numbers. */
enum {
  kRequestCallId = 1,
  kRequestHello = 2,
  kRequestShareContext = 21,
  kHelloApiVersion = 1,
  kHelloClientName = 2,
  kHelloPid = 3,
  kShareContextDevice = 1,
  kResponseCallId = 1,
  kResponseCode = 2,
  kResponseMessage = 3,
  kResponseHello = 4,
  kResponseShareContext = 23,
  kShareResultContextId = 1,
  kShareResultPdHandle = 2,
};

enum { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

/* A bounded writer: `ok` drops to 0 once anything did not fit. */
struct writer {
  char* at;
  char* end;
  int ok;
};

static void PutByte(struct writer* w, unsigned char byte) {
  if (w->at >= w->end) {
    w->ok = 0;
    return;
  }
  *w->at++ = (char)byte;
}

static void PutVarint(struct writer* w, uint64_t value) {
  while (value >= 0x80) {
    PutByte(w, (unsigned char)(value | 0x80));
    value >>= 7;
  }
  PutByte(w, (unsigned char)value);
}

static void PutTag(struct writer* w, int field, int wire_type) {
  PutVarint(w, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

static void PutBytes(struct writer* w, int field, const char* data,
                     size_t length) {
  PutTag(w, field, kLengthDelimited);
  PutVarint(w, length);
  if ((size_t)(w->end - w->at) < length) {
    w->ok = 0;
    return;
  }
  memcpy(w->at, data, length);
  w->at += length;
}

static size_t VarintSize(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

size_t swift_wire_hello(uint64_t call_id, const char* client_name, long pid,
                        char* buffer, size_t capacity) {
  const size_t name_length = strlen(client_name);
  /* The hello's own length first: its fields, as written below. */
  const size_t hello_length = 1 + VarintSize(kSwiftWireApiVersion) + 1 +
                              VarintSize(name_length) + name_length + 1 +
                              VarintSize((uint64_t)pid);
  struct writer w = {buffer, buffer + capacity, 1};
  PutTag(&w, kRequestCallId, kVarint);
  PutVarint(&w, call_id);
  PutTag(&w, kRequestHello, kLengthDelimited);
  PutVarint(&w, hello_length);
  PutTag(&w, kHelloApiVersion, kVarint);
  PutVarint(&w, kSwiftWireApiVersion);
  PutBytes(&w, kHelloClientName, client_name, name_length);
  PutTag(&w, kHelloPid, kVarint);
  PutVarint(&w, (uint64_t)pid);
  /* channel CALLS is 0, proto3's default: not written. */
  return w.ok ? (size_t)(w.at - buffer) : 0;
}

size_t swift_wire_share_context(uint64_t call_id, const char* device,
                                char* buffer, size_t capacity) {
  const size_t device_length = strlen(device);
  struct writer w = {buffer, buffer + capacity, 1};
  PutTag(&w, kRequestCallId, kVarint);
  PutVarint(&w, call_id);
  PutTag(&w, kRequestShareContext, kLengthDelimited);
  PutVarint(&w, 1 + VarintSize(device_length) + device_length);
  PutBytes(&w, kShareContextDevice, device, device_length);
  return w.ok ? (size_t)(w.at - buffer) : 0;
}

/* A bounded reader: returns 0 and advances, or -1 at a malformed field. */
struct reader {
  const unsigned char* at;
  const unsigned char* end;
};

static int GetVarint(struct reader* r, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->at >= r->end) return -1;
    const unsigned char byte = *r->at++;
    *value |= (uint64_t)(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return 0;
  }
  return -1;
}

/*
 * The next field: its number and wire type, and for a length-delimited
 * one its bytes (`*data`, `*length`); a varint's value in `*value`; other
 * types skipped. Returns 0, 1 at the end, -1 when malformed.
 */
static int NextField(struct reader* r, int* field, int* type, uint64_t* value,
                     const unsigned char** data, size_t* length) {
  if (r->at == r->end) return 1;
  uint64_t tag;
  if (GetVarint(r, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
    return -1;
  }
  *field = (int)(tag >> 3);
  *type = (int)(tag & 7);
  switch (*type) {
    case kVarint:
      return GetVarint(r, value);
    case kFixed64:
    case kFixed32: {
      const size_t size = *type == kFixed64 ? 8 : 4;
      if ((size_t)(r->end - r->at) < size) return -1;
      r->at += size;
      return 0;
    }
    case kLengthDelimited: {
      uint64_t size;
      if (GetVarint(r, &size) != 0 || size > (uint64_t)(r->end - r->at)) {
        return -1;
      }
      *data = r->at;
      *length = (size_t)size;
      r->at += size;
      return 0;
    }
    default:
      return -1; /* Groups (3, 4) and unknown types. */
  }
}

static int ParseShareResult(const unsigned char* data, size_t length,
                            struct swift_wire_response* response) {
  struct reader r = {data, data + length};
  int field, type, rc;
  uint64_t value = 0;
  const unsigned char* bytes;
  size_t size;
  while ((rc = NextField(&r, &field, &type, &value, &bytes, &size)) == 0) {
    if (type != kVarint) continue;
    if (field == kShareResultContextId) response->context_id = value;
    if (field == kShareResultPdHandle) response->pd_handle = (uint32_t)value;
  }
  return rc == 1 ? 0 : -1;
}

int swift_wire_parse_response(const char* data, size_t length,
                              struct swift_wire_response* response) {
  memset(response, 0, sizeof(*response));
  struct reader r = {(const unsigned char*)data,
                     (const unsigned char*)data + length};
  int field, type, rc;
  uint64_t value = 0;
  const unsigned char* bytes;
  size_t size;
  while ((rc = NextField(&r, &field, &type, &value, &bytes, &size)) == 0) {
    if (type == kVarint) {
      if (field == kResponseCallId) response->call_id = value;
      if (field == kResponseCode) response->code = (int32_t)value;
    } else if (type == kLengthDelimited) {
      if (field == kResponseMessage) {
        const size_t kept =
            size < kSwiftWireMessageMax - 1 ? size : kSwiftWireMessageMax - 1;
        memcpy(response->message, bytes, kept);
        response->message[kept] = '\0';
      } else if (field == kResponseHello) {
        response->has_hello = 1;
      } else if (field == kResponseShareContext) {
        response->has_share_context = 1;
        if (ParseShareResult(bytes, size, response) != 0) return -1;
      }
    }
  }
  return rc == 1 ? 0 : -1;
}
