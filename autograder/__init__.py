"""Instructor side of the kit: the nbgrader course, hidden checks and grading tools.

Never shipped to students: the wheel contains only ``reg_utils`` and ``testCases``.
"""
