"""The instructor's material: what the course's student-facing files are generated from, kept out of the installed
package (``python3 make.py release`` regenerates those files from it)."""
