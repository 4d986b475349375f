"""The jupyter_kernel_test conformance suite, with every attribute declared.

Run by tests/it/kernel.rs, which installs the kernel under the name in
CLEOPE_KERNEL_NAME and writes output/dot.png into the kernel's workspace.
"""

import os
import unittest

import jupyter_kernel_test


class CleopeKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ["CLEOPE_KERNEL_NAME"]

    language_name = "rhai"
    file_extension = ".rhai"

    code_hello_world = 'print("hello, world");'
    code_stderr = 'eprint("careful: no data for that date");'

    completion_samples = [
        {"text": "read_cs", "matches": {"read_csv"}},
        {"text": "let scene_count = 3;\nscene_c", "matches": {"scene_count"}},
    ]

    complete_code_samples = ["1 + 2", 'print("hello, world");', "fn double(x) { x * 2 }"]
    incomplete_code_samples = ["fn double(x) {", "let bands = [1, 2,", 'let s = "unfinished']
    invalid_code_samples = ["let = 7q;", "1 +* 2;"]

    code_generate_error = 'let cloud = 1 / 0;'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": "[1, 2, 3].len()", "result": "3"},
        {"code": '"ndvi"', "result": '"ndvi"'},
        {"code": '[#{tile: "T33SVB", cloud: 12}]', "mime": "text/html"},
    ]

    code_display_data = [
        {"code": 'display([#{tile: "T33SVB", cloud: 12}]);', "mime": "text/html"},
        {"code": 'display("42 scenes");', "mime": "text/plain"},
        {"code": 'display_png("output/dot.png");', "mime": "image/png"},
    ]

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "1 + *"

    code_inspect_sample = "read_csv"
    code_page_something = "read_csv?"

    code_clear_output = 'print("old"); clear_output();'


if __name__ == "__main__":
    unittest.main()
