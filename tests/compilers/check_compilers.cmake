# Builds each coroutine pattern that docs/guide.md ("Compilers") lists with each compiler given,
# runs it, and checks the outcome the guide documents for that compiler, so that the list stays
# true when the compilers change. Usage:
#   cmake -DSOURCE=<tests/compilers> -DWORK=<scratch dir> "-DCOMPILERS=g++;clang++" -P check_compilers.cmake
#
# Outcomes: right (compiles, runs, prints "right"), miscompiled (compiles, then crashes, hangs or
# computes a wrong result), rejected (does not compile, with the error named below).
cmake_minimum_required(VERSION 3.25)

# <program> <case> <the form, as the guide writes it> <outcome on GCC 12> <first GCC that gets it
# right, 0 if none is known yet>. Clang 14 and later get every case right.
set(cases
  "await_patterns|if|if (co_await x)|miscompiled|13"
  "await_patterns|if_not|if (!co_await x)|miscompiled|13"
  "await_patterns|if_equals|if (co_await x == y)|miscompiled|13"
  "await_patterns|if_and|if (a && co_await x)|miscompiled|13"
  "await_patterns|while|while (co_await x)|miscompiled|13"
  "await_patterns|do_while|do ... while (co_await x)|miscompiled|13"
  "await_patterns|for|a for with co_await x as its condition|miscompiled|13"
  "await_patterns|switch|switch (co_await x)|miscompiled|13"
  "await_patterns|unreached|an if (co_await x) never reached|miscompiled|13"
  "await_patterns|member_if|if (co_await x) in a member function|miscompiled|13"
  "await_patterns|named_first|bool ok = co_await x, then if (ok)|right|12"
  "await_patterns|declared_in_if|if (bool ok = co_await x)|right|12"
  "await_patterns|declared_in_while|while (auto v = co_await x)|right|12"
  "await_patterns|declared_in_switch|switch (int n = co_await x)|right|12"
  "await_patterns|conditional_operator|n += co_await x ? 1 : 0|right|12"
  "await_patterns|lambda_if|if (co_await x) in a lambda|right|12"
  "await_patterns|lambda_to_function|co_await f([c] {...}) to a std::function|miscompiled|0"
  "await_patterns|lambda_to_template|co_await f([c] {...}) to a template|miscompiled|0"
  "await_patterns|named_function|a named std::function moved into co_await f(...)|right|12"
  "await_patterns|named_lambda|a named lambda moved into co_await f(...)|right|12"
  "await_patterns|vector_first|a named vector moved into co_await f(...)|right|12"
  "braced_list_in_await|braced_list|co_await f({std::string(...), ...})|rejected|13"
)
# What a rejected program's compiler says.
set(rejected_because "array used as initializer")

set(programs await_patterns braced_list_in_await)

# Which compiler each is: "GCC 12.2.0", "Clang 14.0.6".
foreach(cxx IN LISTS COMPILERS)
  execute_process(COMMAND ${cxx} --version OUTPUT_VARIABLE version_text RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "${cxx} --version failed")
  endif()
  if(version_text MATCHES "clang version ([0-9]+)\\.([0-9.]+)")
    set(family_${cxx} Clang)
  elseif(version_text MATCHES "\\) ([0-9]+)\\.([0-9.]+)")
    set(family_${cxx} GCC)
  else()
    message(FATAL_ERROR "cannot tell which compiler ${cxx} is:\n${version_text}")
  endif()
  set(major_${cxx} ${CMAKE_MATCH_1})
  set(name_${cxx} "${family_${cxx}} ${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
endforeach()

# Every program with every compiler, all at once (execute_process runs its commands together).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(commands "")
foreach(cxx IN LISTS COMPILERS)
  string(MAKE_C_IDENTIFIER ${cxx} tag)
  foreach(program IN LISTS programs)
    set(exe_${cxx}_${program} ${WORK}/${program}_${tag})
    list(APPEND commands COMMAND ${cxx} -std=c++20 -O2 ${SOURCE}/${program}.cpp
      -o ${exe_${cxx}_${program}})
  endforeach()
endforeach()
execute_process(${commands} RESULTS_VARIABLE results ERROR_QUIET)

set(mismatches "")
foreach(cxx IN LISTS COMPILERS)
  set(compiler ${name_${cxx}})
  set(family ${family_${cxx}})
  set(major ${major_${cxx}})
  foreach(program IN LISTS programs)
    list(POP_FRONT results compiled_${program})
  endforeach()

  foreach(entry IN LISTS cases)
    string(REPLACE "|" ";" fields "${entry}")
    list(GET fields 0 program)
    list(GET fields 1 case)
    list(GET fields 2 form)
    list(GET fields 3 on_gcc12)
    list(GET fields 4 fixed_in)

    # What happened.
    if(NOT compiled_${program} EQUAL 0)
      # Once more alone, to read this compiler's own words.
      execute_process(COMMAND ${cxx} -std=c++20 -fsyntax-only ${SOURCE}/${program}.cpp
        ERROR_VARIABLE compile_out)
      if(compile_out MATCHES "${rejected_because}")
        set(observed rejected)
      else()
        message(FATAL_ERROR "${compiler} cannot compile ${program}:\n${compile_out}")
      endif()
    else()
      execute_process(COMMAND ${exe_${cxx}_${program}} ${case} TIMEOUT 10
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
      if(rc EQUAL 0 AND out STREQUAL "right\n")
        set(observed right)
      else()
        set(observed miscompiled)
        string(STRIP "${rc}: ${out}" detail)  # a wrong result, a signal, or the timeout
      endif()
    endif()

    # What the guide says.
    if(family STREQUAL "Clang" AND major GREATER_EQUAL 14)
      set(documented right)
    elseif(family STREQUAL "GCC" AND major EQUAL 12)
      set(documented ${on_gcc12})
    elseif(family STREQUAL "GCC" AND fixed_in GREATER 0 AND major GREATER_EQUAL fixed_in)
      set(documented right)
    else()
      set(documented "(nothing)")
    endif()

    if(observed STREQUAL "miscompiled")
      message(STATUS "${compiler}: ${form}: ${observed} (${detail})")
    else()
      message(STATUS "${compiler}: ${form}: ${observed}")
    endif()
    if(NOT observed STREQUAL documented)
      string(APPEND mismatches
        "  ${compiler}, ${program} ${case}: `${form}` is ${observed}, the guide says ${documented}\n")
    endif()
  endforeach()
endforeach()

if(mismatches)
  message(FATAL_ERROR "The compilers changed: what docs/guide.md (\"Compilers\") and README.md "
    "say no longer holds.\n${mismatches}Update both, and the table at the top of "
    "tests/compilers/check_compilers.cmake, to what these compilers do.")
endif()
