"""nbgrader settings for the instructor side of the chdml course.

The course folder is this repository: instructor notebooks in ``source/<workshop>/``,
student notebooks generated into ``release/<workshop>/`` by ``chdml build`` (which calls
nbgrader's ``generate_assignment`` with this configuration).
"""
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.course_id = "chdml"

c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# chdml's own settings (used by `chdml build`): the public GitHub repository that the Colab
# badge opens release/ notebooks from and that the %pip cell installs chdml from.
c.ChdmlCourse.repository_url = "https://github.com/chdml/chdml"
c.ChdmlCourse.branch = "main"
c.ChdmlCourse.selfcheck_directory = "chdml/selfcheck"
