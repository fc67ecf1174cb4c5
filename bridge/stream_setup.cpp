#include "stream_setup.hpp"

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge {
namespace {

using programs::RuntimeFailure;

std::vector<std::string> tokens_of(const std::string& subject) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = subject.find('.', start);
    tokens.push_back(subject.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return tokens;
    start = dot + 1;
  }
}

// `other`: the limit shown beside it, see format_bytes_beside.
std::string describe_max_bytes(std::int64_t max_bytes, std::int64_t other) {
  if (max_bytes < 0) return "unlimited";
  return programs::format_bytes_beside(static_cast<std::uint64_t>(max_bytes), static_cast<std::uint64_t>(other));
}

StreamFacts facts_of(const jsStreamInfo& info) {
  StreamFacts facts;
  facts.retention = info.Config->Retention;
  for (int index = 0; index < info.Config->SubjectsLen; ++index) facts.subjects.emplace_back(info.Config->Subjects[index]);
  facts.messages = info.State.Msgs;
  facts.creation_time_ns = static_cast<std::uint64_t>(info.Created);
  return facts;
}

StreamFacts create_stream(NatsSession& session, const StreamSettings& settings) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = settings.stream.c_str();
  const char* subjects[] = {settings.subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = settings.replicas.value_or(1);
  config.MaxBytes = settings.max_bytes ? static_cast<std::int64_t>(*settings.max_bytes) : -1;
  jsOptions options = request_options(session);
  jsStreamInfo* info = nullptr;
  jsErrCode js_code{};
  const natsStatus status = js_AddStream(&info, session.jetstream(), &config, &options, &js_code);
  if (status != NATS_OK) {
    fail("cannot create stream '" + settings.stream + "' at " + session.urls_text(), failure_of(status, js_code));
  }
  StreamFacts facts = facts_of(*info);
  facts.created = true;
  jsStreamInfo_Destroy(info);
  return facts;
}

void check_stream(const StreamSettings& settings, const jsStreamInfo& info) {
  const jsStreamConfig& config = *info.Config;
  std::string subjects;
  bool captured = settings.subject.empty();
  for (int index = 0; index < config.SubjectsLen; ++index) {
    subjects += (subjects.empty() ? "" : ", ") + std::string(config.Subjects[index]);
    if (!captured) captured = subject_covers(config.Subjects[index], settings.subject);
  }
  std::string differences;
  const auto differ = [&](const std::string& difference) {
    differences += (differences.empty() ? "" : ", ") + difference;
  };
  if (!captured) differ("subjects " + (subjects.empty() ? std::string("none") : subjects) + " (asked " + settings.subject + ")");
  if (settings.replicas && config.Replicas != *settings.replicas) {
    differ("replicas " + std::to_string(config.Replicas) + " (asked " + std::to_string(*settings.replicas) + ")");
  }
  if (settings.max_bytes && config.MaxBytes != static_cast<std::int64_t>(*settings.max_bytes)) {
    const auto asked = static_cast<std::int64_t>(*settings.max_bytes);
    differ("max bytes " + describe_max_bytes(config.MaxBytes, asked) + " (asked " +
           describe_max_bytes(asked, config.MaxBytes) + ")");
  }
  if (!differences.empty()) {
    throw RuntimeFailure("stream '" + settings.stream + "' exists with other parameters: " + differences +
                         "; use its parameters, or another --stream");
  }
}

}  // namespace

bool subject_covers(const std::string& pattern, const std::string& subject) {
  const std::vector<std::string> pattern_tokens = tokens_of(pattern);
  const std::vector<std::string> subject_tokens = tokens_of(subject);
  for (std::size_t index = 0; index < pattern_tokens.size(); ++index) {
    if (pattern_tokens[index] == ">") return index < subject_tokens.size();
    if (index >= subject_tokens.size() || subject_tokens[index] == ">") return false;
    if (pattern_tokens[index] != "*" && pattern_tokens[index] != subject_tokens[index]) return false;
  }
  return pattern_tokens.size() == subject_tokens.size();
}

StreamFacts ensure_stream(NatsSession& session, const StreamSettings& settings) {
  jsOptions options = request_options(session);
  jsStreamInfo* info = nullptr;
  jsErrCode js_code{};
  const natsStatus status = js_GetStreamInfo(&info, session.jetstream(), settings.stream.c_str(), &options, &js_code);
  if (status == NATS_NOT_FOUND || js_code == kJsStreamNotFound) {
    if (settings.subject.empty()) {
      throw RuntimeFailure("stream '" + settings.stream + "' does not exist at " + session.urls_text() +
                           "; create it (ringfile-bridge out does), or give --subject to create it here");
    }
    return create_stream(session, settings);
  }
  if (status != NATS_OK) {
    fail("cannot look up stream '" + settings.stream + "' at " + session.urls_text(), failure_of(status, js_code));
  }
  StreamFacts facts = facts_of(*info);
  try {
    check_stream(settings, *info);
  } catch (...) {
    jsStreamInfo_Destroy(info);
    throw;
  }
  jsStreamInfo_Destroy(info);
  return facts;
}

}  // namespace ringfile::bridge
