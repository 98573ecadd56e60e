"""Where frames go: a glfw window (normal use, Xvfb) or a headless EGL surface (tests, CI).

Both give a moderngl context shared with Dear ImGui's own C++ OpenGL3 backend (imgui-bundle),
``begin_frame``/``end_frame`` around the panels, and ``shutdown`` tearing down imgui then GL then
the window. ``imgui_bundle`` is imported before ``glfw`` so both use the same GLFW library.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

import numpy as np
from imgui_bundle import imgui  # imported before glfw (inside the surfaces)

CLEAR = (0.06, 0.06, 0.07, 1.0)


class _ImguiMixin:
    ctx: object

    def _init_imgui(self) -> None:
        imgui.create_context()
        io = imgui.get_io()
        io.set_ini_filename("")
        io.config_flags |= imgui.ConfigFlags_.nav_enable_keyboard.value
        imgui.style_colors_dark()

    def capture(self) -> np.ndarray:
        """Render the last ImGui frame again into an FBO and return it (h, w, 4), row 0 on top."""
        w, h = self.framebuffer_size()
        tex = self.ctx.texture((w, h), 4)
        fbo = self.ctx.framebuffer(color_attachments=[tex])
        try:
            fbo.use()
            self.ctx.viewport = (0, 0, w, h)
            fbo.clear(*CLEAR)
            imgui.backends.opengl3_render_draw_data(imgui.get_draw_data())
            raw = fbo.read(components=4, alignment=1)
        finally:
            self.ctx.screen.use() if self.ctx.screen is not None else None
            fbo.release()
            tex.release()
        return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4)[::-1].copy()


class GlfwSurface(_ImguiMixin):
    """A visible glfw window with an OpenGL 3.3 core context."""

    def __init__(self, size: tuple[int, int], title: str, on_drop: Callable[[list[str]], None] | None = None):
        import glfw
        import moderngl

        self._glfw = glfw
        if not glfw.init():
            raise RuntimeError("glfw.init() failed: no display? (set DISPLAY, or run under xvfb-run)")
        self.window = None
        self._imgui = False
        try:
            glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
            glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
            glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
            glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
            self.window = glfw.create_window(size[0], size[1], title, None, None)
            if not self.window:
                raise RuntimeError("glfw could not create an OpenGL 3.3 core window")
            glfw.make_context_current(self.window)
            glfw.swap_interval(1)
            glfw.set_input_mode(self.window, glfw.STICKY_KEYS, True)
            self._watch_input()  # before ImGui installs its callbacks: it chains to these
            self.ctx = moderngl.create_context(require=330)
            self._init_imgui()
            addr = ctypes.cast(self.window, ctypes.c_void_p).value
            imgui.backends.glfw_init_for_opengl(addr, True)
            imgui.backends.opengl3_init("#version 330 core")
            self._imgui = True
            if on_drop is not None:
                glfw.set_drop_callback(self.window, lambda _w, paths: on_drop(list(paths)))
        except Exception:
            self.shutdown()
            raise

    def _watch_input(self) -> None:
        glfw = self._glfw
        self.last_input = time.monotonic()

        def seen(*_args) -> None:
            self.last_input = time.monotonic()

        self._callbacks = (seen,)  # keep a reference for ctypes
        for setter in (
            glfw.set_cursor_pos_callback,
            glfw.set_mouse_button_callback,
            glfw.set_scroll_callback,
            glfw.set_key_callback,
            glfw.set_char_callback,
            glfw.set_window_size_callback,
            glfw.set_window_focus_callback,
            glfw.set_cursor_enter_callback,
        ):
            setter(self.window, seen)

    def wake(self) -> None:
        """Interrupt an idle wait from any thread (new data arrived)."""
        if self.window is not None:
            self._glfw.post_empty_event()

    def framebuffer_size(self) -> tuple[int, int]:
        return tuple(self._glfw.get_framebuffer_size(self.window))  # type: ignore[return-value]

    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self.window))

    def request_close(self) -> None:
        self._glfw.set_window_should_close(self.window, True)

    def begin_frame(self, wait: float = 0.0) -> None:
        """``wait`` > 0: idle, sleep until input, a wake-up or the timeout (frees the CPU)."""
        if wait > 0:
            self._glfw.wait_events_timeout(wait)
        else:
            self._glfw.poll_events()
        imgui.backends.opengl3_new_frame()
        imgui.backends.glfw_new_frame()
        imgui.new_frame()

    def end_frame(self) -> None:
        imgui.render()
        self.ctx.screen.use()
        w, h = self.framebuffer_size()
        self.ctx.viewport = (0, 0, w, h)
        # no clear: the panels cover the whole window, and a full-screen pass costs ms in software GL
        imgui.backends.opengl3_render_draw_data(imgui.get_draw_data())
        self._glfw.swap_buffers(self.window)

    def shutdown(self) -> None:
        if self._imgui:
            imgui.backends.opengl3_shutdown()
            imgui.backends.glfw_shutdown()
            imgui.destroy_context()
            self._imgui = False
        if getattr(self, "ctx", None) is not None:
            self.ctx.release()
            self.ctx = None
        if self.window is not None:
            self._glfw.destroy_window(self.window)
            self.window = None
        self._glfw.terminate()


class HeadlessSurface(_ImguiMixin):
    """No window: an EGL context and an FBO as the screen; input comes only through ``imgui.get_io()``."""

    def __init__(self, size: tuple[int, int], title: str = "", on_drop=None):
        import moderngl

        self.size = size
        self._closed = False
        self._imgui = False
        self._last = time.perf_counter()
        self.last_input = time.monotonic()
        self.ctx = moderngl.create_context(standalone=True, backend="egl", require=330)
        try:
            self._screen_tex = self.ctx.texture(size, 4)
            self.screen = self.ctx.framebuffer(color_attachments=[self._screen_tex])
            self._init_imgui()
            imgui.backends.opengl3_init("#version 330 core")
            self._imgui = True
        except Exception:
            self.shutdown()
            raise

    def framebuffer_size(self) -> tuple[int, int]:
        return self.size

    def should_close(self) -> bool:
        return self._closed

    def request_close(self) -> None:
        self._closed = True

    def wake(self) -> None:
        pass

    def begin_frame(self, wait: float = 0.0) -> None:
        """Input only comes through ``imgui.get_io()`` here, so frames never idle-wait."""
        self.last_input = time.monotonic()
        io = imgui.get_io()
        io.display_size = imgui.ImVec2(*self.size)
        now = time.perf_counter()
        io.delta_time = max(now - self._last, 1e-4)
        self._last = now
        imgui.backends.opengl3_new_frame()
        imgui.new_frame()

    def end_frame(self) -> None:
        imgui.render()
        self.screen.use()
        self.ctx.viewport = (0, 0, *self.size)
        imgui.backends.opengl3_render_draw_data(imgui.get_draw_data())

    def shutdown(self) -> None:
        if self._imgui:
            imgui.backends.opengl3_shutdown()
            imgui.destroy_context()
            self._imgui = False
        if getattr(self, "ctx", None) is not None:
            self.ctx.release()
            self.ctx = None
