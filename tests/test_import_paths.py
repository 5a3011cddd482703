"""`loyalty import` with a file argument that is not a file name."""


def test_empty_file_name_is_refused_with_a_message(cli):
    result = cli("import", "")
    assert result.exit_code == 1
    assert result.stderr == "error: '.' is not a file name; give the CSV file to import\n"
    assert "internal error" not in result.stderr
