// S3 credentials: where they come from, never from a URI or a property.
//
// Lookup order (the AWS CLI's, for the parts vdb supports):
//  1. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (both, or
//     an error naming the missing one);
//  2. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else
//     $HOME/.aws/credentials; profile AWS_PROFILE, else "default"
//     (aws_access_key_id, aws_secret_access_key).
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the
// credentials file, then in the config file (AWS_CONFIG_FILE, else
// $HOME/.aws/config, section [default] or [profile NAME]), else us-east-1.
// Not supported: session tokens (AWS_SESSION_TOKEN), SSO, instance roles,
// credential_process.
//
// Contract: pure functions but LoadCredentials, which reads the environment
// (through the getenv it is given) and at most two small files (at most
// 1 MiB each; a symlink is followed: they are the user's own files);
// thread-safe if that getenv is. Nothing throws. A Credentials is a plain
// value: never print or log it; `source` says where it came from, for
// messages ("the environment (AWS_ACCESS_KEY_ID)",
// "/root/.aws/credentials [default]"). Error messages name files, profiles
// and variables, never a key's value.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "status.h"

namespace vdb::remote {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string source;
};

using GetEnv = std::function<const char *(const char *)>;

Result<Credentials> LoadCredentials(const GetEnv &getenv);
Result<Credentials> LoadCredentials();  // the process environment

// The access and secret key (and region, if any) of `profile` in the text of
// an AWS-style INI file. kNotFound if the profile is absent;
// kInvalidArgument if it lacks a key. `path` is for messages.
Result<Credentials> ParseCredentialsFile(std::string_view text, const std::string &profile,
                                         const std::string &path);
// The `region` of a profile in an AWS config file ([default] or
// [profile NAME]); empty if none.
std::string ParseConfigRegion(std::string_view text, const std::string &profile);

}  // namespace vdb::remote
