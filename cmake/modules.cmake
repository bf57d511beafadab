# Modules, and the layering between them.
#
# add_module_library(NAME SOURCES ... DEPS ... [HEADER_DIRS dir ...])
#
# One static library per module. DEPS are its only allowed dependencies,
# and the build enforces that for headers too: a module compiles against an
# include tree of its own (build/include/NAME) holding only its own headers
# and those of the modules it depends on, directly or through them, at their
# usual paths ("store/sql/db.h"). Including any other module's header fails
# to compile ("No such file or directory"), so the layering cannot rot by
# accident (tests/layering proves it).
#
# A module's headers are the *.h files directly in the folder of its
# CMakeLists.txt, or, with HEADER_DIRS, in the listed folders (relative to
# src/, each taken with its subfolders).
function(add_module_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;HEADER_DIRS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})

  set(src_root ${PROJECT_SOURCE_DIR}/src)
  if(ARG_HEADER_DIRS)
    set(own)
    foreach(dir IN LISTS ARG_HEADER_DIRS)
      file(GLOB_RECURSE found CONFIGURE_DEPENDS ${src_root}/${dir}/*.h)
      list(APPEND own ${found})
    endforeach()
  else()
    file(GLOB own CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
  endif()
  # What this module may include: its own headers and every module
  # dependency's visible headers.
  set(visible ${own})
  onestack_visible_headers(visible "${ARG_DEPS}")
  set_target_properties(${name} PROPERTIES ONESTACK_VISIBLE_HEADERS "${visible}")
  onestack_include_tree(${name} "${visible}")
endfunction()

# Appends to the list variable `out` the headers modules `deps` may show
# (their own and their dependencies'). A module must be declared before the
# modules that depend on it (the order of add_subdirectory).
function(onestack_visible_headers out deps)
  set(visible ${${out}})
  foreach(dep IN LISTS deps)
    if(dep MATCHES "^onestack_" AND NOT TARGET ${dep})
      message(FATAL_ERROR "module ${dep} is used before it is declared: "
                          "add its folder before its users' in CMakeLists.txt")
    endif()
    if(TARGET ${dep})
      get_target_property(dep_visible ${dep} ONESTACK_VISIBLE_HEADERS)
      if(dep_visible)
        list(APPEND visible ${dep_visible})
      endif()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES visible)
  set(${out} "${visible}" PARENT_SCOPE)
endfunction()

# Gives `target` a private include tree holding exactly `headers` (absolute
# paths under src/), as links at their paths relative to src/.
function(onestack_include_tree target headers)
  set(tree ${CMAKE_BINARY_DIR}/include/${target})
  file(REMOVE_RECURSE ${tree})
  foreach(h IN LISTS headers)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/src ${h})
    get_filename_component(dir ${tree}/${rel} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    file(CREATE_LINK ${h} ${tree}/${rel} SYMBOLIC)
  endforeach()
  target_include_directories(${target} PRIVATE ${tree})
endfunction()

# An executable that is part of the product (not a test): it sees the
# headers of the modules it links, as a module does.
function(add_module_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set(visible)
  onestack_visible_headers(visible "${ARG_DEPS}")
  onestack_include_tree(${name} "${visible}")
endfunction()

# add_unit_test(NAME SOURCES ... DEPS ...)
# Tests see every header (src/ and tests/): they may reach into a module
# to test it.
function(add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "ONESTACK_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
