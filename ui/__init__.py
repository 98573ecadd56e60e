"""The rerun-zmq desktop viewer: glfw + moderngl + imgui-bundle.

Nothing here is imported by ``import rerun_zmq``; the CLI imports ``ui.app`` lazily.
``ui.app.main(argv)`` is the entry point, ``ui.app.Viewer`` the steppable application.
"""
