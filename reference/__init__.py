"""Reference solutions, one module per exercise.  Never served to students.

The graders use them for the expected values of hidden cases; ``nngrade exercises regen``
uses them to store the expected outputs of visible cases.  The wheel built for students
does not contain this package.
"""
