#pragma once
// husk's version and the commit it was built from. The commit lives in one generated source
// file (build/generated/version.cpp), so a new commit recompiles that file alone.
namespace husk {
extern const char* const kVersion;
extern const char* const kCommit;
}  // namespace husk
