# Writes build_info.hpp at every build, not only at configure: the binary's git_sha is the commit it
# was built from ("-dirty" when tracked files had changes), so a record never names an older commit.
# configure_file rewrites the header only when it changes, so an unchanged commit rebuilds nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE C1M_GIT_SHA OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT C1M_GIT_SHA)
  set(C1M_GIT_SHA unknown)
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(changes)
    string(APPEND C1M_GIT_SHA -dirty)
  endif()
endif()
configure_file("${SOURCE_DIR}/src/core/build_info.hpp.in" "${OUT}" @ONLY)
