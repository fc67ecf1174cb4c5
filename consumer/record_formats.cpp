#include "record_formats.hpp"

#include <cstdio>

#include "ringfile/format/utf8.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/time_points.hpp"

namespace ringfile::consumer {
namespace {

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void append_number(std::string& out, std::uint64_t number) { out += std::to_string(number); }

}  // namespace

bool valid_utf8(std::span<const std::byte> bytes) noexcept {
  for (std::string_view text = as_text(bytes); !text.empty();) {
    const std::size_t length = format::decode_utf8(text).length;
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

void append_base64(std::string& out, std::span<const std::byte> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t index = 0;
  for (; index + 3 <= bytes.size(); index += 3) {
    const std::uint32_t group = std::to_integer<std::uint32_t>(bytes[index]) << 16 |
                                std::to_integer<std::uint32_t>(bytes[index + 1]) << 8 |
                                std::to_integer<std::uint32_t>(bytes[index + 2]);
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += kAlphabet[group & 63];
  }
  const std::size_t rest = bytes.size() - index;
  if (rest == 0) return;
  std::uint32_t group = std::to_integer<std::uint32_t>(bytes[index]) << 16;
  if (rest == 2) group |= std::to_integer<std::uint32_t>(bytes[index + 1]) << 8;
  out += kAlphabet[group >> 18 & 63];
  out += kAlphabet[group >> 12 & 63];
  out += rest == 2 ? kAlphabet[group >> 6 & 63] : '=';
  out += '=';
}

void append_escaped(std::string& out, std::span<const std::byte> bytes) {
  std::string_view text = as_text(bytes);
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text[0]);
    const format::Utf8Character character = format::decode_utf8(text);
    if (character.length > 1 && format::acts_rather_than_shows(character.code_point)) {
      char escaped[12];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(character.code_point));
      out += escaped;
      text.remove_prefix(character.length);
      continue;
    }
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\\') {
      out += "\\\\";
    } else if (character.length == 0 || format::is_control(character.code_point)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out.append(text.data(), character.length);
      text.remove_prefix(character.length);
      continue;
    }
    text.remove_prefix(1);
  }
}

void append_jsonl(std::string& out, const Record& record) {
  programs::JsonWriter json;
  json.begin_object()
      .field("position", record.position)
      .field("time", programs::format_utc_time(record.timestamp_ns))
      .field("time_ns", record.timestamp_ns)
      .field("producer", record.producer_slot)
      .field("sequence", record.producer_sequence)
      .field("length", record.payload.size());
  if (valid_utf8(record.payload)) {
    json.field("payload", as_text(record.payload));
  } else {
    std::string encoded;
    append_base64(encoded, record.payload);
    json.field("payload_base64", encoded);
  }
  json.end_object();
  out += json.text();
  out += '\n';
}

void append_hex_dump(std::string& out, const Record& record) {
  out += "position " + std::to_string(record.position) + "  time " + programs::format_utc_time(record.timestamp_ns) +
         "  producer " + std::to_string(record.producer_slot) + "  sequence " +
         std::to_string(record.producer_sequence) + "  length " + std::to_string(record.payload.size()) + "\n";
  constexpr std::size_t kRowBytes = 16;
  for (std::size_t row = 0; row < record.payload.size(); row += kRowBytes) {
    char line[96];
    int used = std::snprintf(line, sizeof line, "%08zx  ", row);
    std::string printable;
    for (std::size_t column = 0; column < kRowBytes; ++column) {
      if (row + column < record.payload.size()) {
        const auto byte = std::to_integer<unsigned>(record.payload[row + column]);
        used += std::snprintf(line + used, sizeof line - static_cast<std::size_t>(used), "%02x ", byte);
        printable += byte >= 0x20 && byte < 0x7f ? static_cast<char>(byte) : '.';
      } else {
        used += std::snprintf(line + used, sizeof line - static_cast<std::size_t>(used), "   ");
      }
      if (column == 7) line[used++] = ' ';
    }
    out.append(line, static_cast<std::size_t>(used));
    out += " |" + printable + "|\n";
  }
  out += '\n';
}

ShowTemplate::ShowTemplate(const std::string& text) {
  std::string literal;
  const auto flush_literal = [&] {
    if (!literal.empty()) pieces_.push_back({0, literal});
    literal.clear();
  };
  for (std::size_t index = 0; index < text.size(); ++index) {
    const char character = text[index];
    if ((character == '%' || character == '\\') && index + 1 < text.size()) {
      const char next = text[++index];
      if (character == '\\') {
        literal += next == 'n' ? '\n' : next == 't' ? '\t' : next == 'r' ? '\r' : next == '0' ? '\0' : next;
      } else if (next == '%') {
        literal += '%';
      } else {
        flush_literal();
        pieces_.push_back({next, {}});
      }
    } else {
      literal += character;
    }
  }
  flush_literal();
}

void ShowTemplate::append(std::string& out, const Record& record) const {
  for (const Piece& piece : pieces_) {
    switch (piece.field) {
      case 0: out += piece.text; break;
      case 'p': append_number(out, record.position); break;
      case 't': out += programs::format_utc_time(record.timestamp_ns); break;
      case 'T': append_number(out, record.timestamp_ns); break;
      case 'P': append_number(out, record.producer_slot); break;
      case 's': append_number(out, record.producer_sequence); break;
      case 'l': append_number(out, record.payload.size()); break;
      case 'v': out += as_text(record.payload); break;
      case 'e': append_escaped(out, record.payload); break;
      default: break;
    }
  }
}

}  // namespace ringfile::consumer
