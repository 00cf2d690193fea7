// A small, bounded extractor for the few elements vdb reads from S3's XML
// answers (ListObjectsV2, InitiateMultipartUpload, ListParts,
// ListMultipartUploads, CompleteMultipartUpload, Error). Not an XML parser:
// it finds elements by name and decodes their text, which is all these
// flat, machine-written documents need, and is small enough to test
// exhaustively (tests/remote/s3_protocol_test.cpp).
//
// Contract:
//  - Pure functions, no state, thread-safe; nothing throws.
//  - Input is untrusted: every function is linear in the document, never
//    recursive, reads nothing outside the string_view, and allocates at most
//    what the document holds (plus max_count views). Malformed input
//    (a start tag without its end tag, a bad entity, markup inside a text
//    element) is kCorrupt, never a crash or a wrong "not found".
//  - Elements are found by exact name at any depth; the elements read here
//    never nest inside an element of the same name (true of every S3
//    element vdb reads). `<Name>`, `<Name attr="...">` and `<Name/>` match;
//    `<NameMore>` does not. Namespaces prefixes are not interpreted.
//  - Text: the five predefined entities, decimal and hex character
//    references (written as UTF-8), and CDATA sections are decoded; nothing
//    is trimmed (a key may end in a space).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace vdb::remote::xml {

// The raw content (between start and end tag) of each element `name`, in
// document order; kCorrupt if there are more than max_count.
Result<std::vector<std::string_view>> Elements(std::string_view doc, std::string_view name,
                                               size_t max_count);

// The decoded text of the first element `name`, or nullopt if there is none.
Result<std::optional<std::string>> FirstText(std::string_view doc, std::string_view name);

// Decodes the content of a text element (entities, character references,
// CDATA); kCorrupt if it holds markup or a malformed reference.
Result<std::string> DecodeText(std::string_view raw);

// Escapes text for an element's content (& < > " ').
std::string Escape(std::string_view text);

}  // namespace vdb::remote::xml
