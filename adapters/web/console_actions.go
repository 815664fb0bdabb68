package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

func (h *Handler) technicianAction(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	ctx, m, a := r.Context(), meta(technicianActor(s.TechnicianID)), h.cfg.App
	var res app.Result
	var err error
	switch r.PathValue("action") {
	case "assign":
		res, err = a.AssignToMe(ctx, m, id)
	case "unassign":
		res, err = a.Unassign(ctx, m, id)
	case "transfer":
		to, perr := uuid.Parse(r.PostForm.Get("technician_id"))
		if perr != nil {
			h.setFlash(w, "Choose the technician to transfer the request to.")
			http.Redirect(w, r, "/console/requests/"+id.String(), http.StatusSeeOther)
			return
		}
		res, err = a.Transfer(ctx, m, id, to)
	case "join":
		res, err = a.JoinChat(ctx, m, id)
	case "messages":
		res, err = a.SendTechnicianMessage(ctx, m, id, uuid.New(), r.PostForm.Get("body"))
	case "notes":
		res, err = a.AddNote(ctx, m, id, uuid.New(), r.PostForm.Get("body"))
	case "screen-sharing":
		res, err = a.RequestScreenSharing(ctx, m, id)
	case "end-screen-sharing":
		res, err = a.EndScreenSharingSession(ctx, m, id)
	case "mobile-profiles":
		res, err = a.SendMobileProfile(ctx, m, id, r.PostForm.Get("profile"))
	case "mobile-profile-files":
		res, err = a.SendMobileProfileFile(ctx, m, id, r.PostForm.Get("template"))
	case "end-chat":
		res, err = a.EndChat(ctx, m, id)
	case "close":
		res, err = a.Close(ctx, m, id)
	case "files":
		res, err = h.upload(w, r, id, func(token string) bool {
			return h.cfg.Accounts.Credentials().CheckCSRF(s, token)
		}, func(up app.Upload) (app.Result, error) {
			return a.ShareTechnicianFile(ctx, m, up)
		})
	default:
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.actionDone(w, r, res, err, "/console/requests/"+id.String())
}

// actionDone answers a form action: a form without its token is a 403; a request the caller
// may not see is a 404 (R2); any other failure is a flash message on the page the action came
// from; a success remembers the position it wrote, so that the next page waits for the read
// models to show it. The page's script gets a JSON answer instead (fetchDone).
func (h *Handler) actionDone(w http.ResponseWriter, r *http.Request, res app.Result, err error, page string) {
	if fromScript(r) {
		h.fetchDone(w, r, res, err)
		return
	}
	if err != nil {
		if errors.Is(err, errBadFormToken) {
			h.errorPage(w, r, http.StatusForbidden, "")
			return
		}
		if isNotFound(err) {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		h.setFlash(w, h.message(r.Context(), err))
	} else {
		h.setSeen(w, res)
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
}

func (h *Handler) technicianDownload(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.download(w, r, h.viewer(r, s), id)
}
